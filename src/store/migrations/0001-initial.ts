import { Migration } from '@mikro-orm/migrations';

// The change log's id is taken from its own sequence before the row is written, so that the
// writer can stamp the resourceVersion into the object it stores.
export class Migration0001Initial extends Migration {
  override async up(): Promise<void> {
    this.addSql(`CREATE SEQUENCE IF NOT EXISTS revision_seq AS bigint START 1`);
    this.addSql(`CREATE TABLE objects (
      key text PRIMARY KEY,
      resource text NOT NULL,
      namespace text NOT NULL,
      name text NOT NULL,
      revision bigint NOT NULL,
      create_revision bigint NOT NULL,
      value text NOT NULL
    )`);
    this.addSql(`CREATE INDEX objects_resource_namespace ON objects (resource, namespace, name)`);
    this.addSql(`CREATE TABLE changes (
      id bigint PRIMARY KEY,
      key text NOT NULL,
      resource text NOT NULL,
      namespace text NOT NULL,
      name text NOT NULL,
      type text NOT NULL,
      value text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )`);
    this.addSql(`CREATE TABLE audit_events (
      id bigserial PRIMARY KEY,
      time timestamptz NOT NULL DEFAULT now(),
      username text NOT NULL,
      verb text NOT NULL,
      api_group text NOT NULL,
      resource text NOT NULL,
      subresource text NOT NULL DEFAULT '',
      namespace text NOT NULL DEFAULT '',
      name text NOT NULL DEFAULT '',
      code integer NOT NULL,
      user_agent text NOT NULL DEFAULT ''
    )`);
    this.addSql(`CREATE INDEX audit_events_time ON audit_events (time)`);
    this.addSql(`CREATE TABLE api_tokens (
      token_hash text PRIMARY KEY,
      username text NOT NULL,
      groups jsonb NOT NULL DEFAULT '[]',
      created_at timestamptz NOT NULL DEFAULT now()
    )`);
    this.addSql(`CREATE TABLE store_settings (name text PRIMARY KEY, value text NOT NULL)`);
    this.addSql(`INSERT INTO store_settings (name, value) VALUES ('compact_revision', '0')`);
  }

  override async down(): Promise<void> {
    this.addSql('DROP TABLE store_settings, api_tokens, audit_events, changes, objects');
    this.addSql('DROP SEQUENCE revision_seq');
  }
}
