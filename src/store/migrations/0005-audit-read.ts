import { Migration } from '@mikro-orm/migrations';

// The audit trail is read through the API (AuditEvents, src/audit/): a page is the newest
// events (by time, then id) below a point, of everyone, of one namespace or of one user.
// These indexes answer each without reading the rest of the table; (time, id) takes the
// place of the index on time alone.
export class Migration0005AuditRead extends Migration {
  override async up(): Promise<void> {
    this.addSql('DROP INDEX IF EXISTS audit_events_time');
    this.addSql('CREATE INDEX IF NOT EXISTS audit_events_time_id ON audit_events (time, id)');
    this.addSql('CREATE INDEX IF NOT EXISTS audit_events_namespace_time_id ON audit_events (namespace, time, id)');
    this.addSql('CREATE INDEX IF NOT EXISTS audit_events_username_time_id ON audit_events (username, time, id)');
  }

  override async down(): Promise<void> {
    this.addSql('DROP INDEX IF EXISTS audit_events_time_id, audit_events_namespace_time_id, audit_events_username_time_id');
    this.addSql('CREATE INDEX IF NOT EXISTS audit_events_time ON audit_events (time)');
  }
}
