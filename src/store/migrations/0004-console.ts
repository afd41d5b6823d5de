import { Migration } from '@mikro-orm/migrations';

// The operations console (seed 004) names clusters by a small integer that must not change
// while the cluster exists, and keeps a log of every operation made through it.
export class Migration0004Console extends Migration {
  override async up(): Promise<void> {
    this.addSql(`CREATE TABLE console_clusters (
      id bigserial PRIMARY KEY,
      uid text NOT NULL UNIQUE,
      status text NOT NULL DEFAULT 'unknown',
      version text NOT NULL DEFAULT '',
      node_count integer NOT NULL DEFAULT 0,
      pod_count integer NOT NULL DEFAULT 0,
      namespace_count integer NOT NULL DEFAULT 0,
      last_connected_at timestamptz
    )`);
    this.addSql(`CREATE TABLE console_operations (
      id bigserial PRIMARY KEY,
      time timestamptz NOT NULL DEFAULT now(),
      username text NOT NULL,
      cluster_id bigint,
      operation_type text NOT NULL,
      resource_type text NOT NULL,
      resource_name text NOT NULL DEFAULT '',
      namespace text NOT NULL DEFAULT '',
      status text NOT NULL,
      message text NOT NULL DEFAULT ''
    )`);
    this.addSql('CREATE INDEX console_operations_cluster_time ON console_operations (cluster_id, time)');
  }

  override async down(): Promise<void> {
    this.addSql('DROP TABLE console_operations, console_clusters');
  }
}
