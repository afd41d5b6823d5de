import { Migration } from '@mikro-orm/migrations';

// The audit trail is read through the API (AuditEvents, src/audit/): a page is the newest
// events of one namespace or one user below a point, which these indexes answer without
// reading the rest of the table (the primary key serves the unfiltered trail, the time
// index a time range).
export class Migration0005AuditRead extends Migration {
  override async up(): Promise<void> {
    this.addSql('CREATE INDEX IF NOT EXISTS audit_events_namespace_id ON audit_events (namespace, id)');
    this.addSql('CREATE INDEX IF NOT EXISTS audit_events_username_id ON audit_events (username, id)');
  }

  override async down(): Promise<void> {
    this.addSql('DROP INDEX IF EXISTS audit_events_namespace_id, audit_events_username_id');
  }
}
