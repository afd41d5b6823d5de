import { Migration } from '@mikro-orm/migrations';

// Every list is served from the in-memory cache and every write addresses one key, so the
// secondary index on objects only cost each write an index update.
export class Migration0002DropObjectsResourceIndex extends Migration {
  override async up(): Promise<void> {
    this.addSql('DROP INDEX IF EXISTS objects_resource_namespace');
  }

  override async down(): Promise<void> {
    this.addSql('CREATE INDEX IF NOT EXISTS objects_resource_namespace ON objects (resource, namespace, name)');
  }
}
