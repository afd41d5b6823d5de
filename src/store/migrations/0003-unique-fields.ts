import { Migration } from '@mikro-orm/migrations';
import { UNIQUE_FIELDS, uniqueIndexStatement } from '../unique-fields.js';

// Unique fields (a Baremetal's serialNumber, a Maintainer's account) held by the database, so
// that concurrent creates, on one replica or several, cannot both take a value. A database
// that already holds duplicates keeps working without the index (a warning says so) and
// admission still refuses new duplicates; the index is created by this migration only.
export class Migration0003UniqueFields extends Migration {
  override async up(): Promise<void> {
    for (const field of UNIQUE_FIELDS) {
      this.addSql(`DO $$ BEGIN ${uniqueIndexStatement(field)}; EXCEPTION WHEN unique_violation THEN RAISE WARNING 'duplicate ${field.kind} ${field.path.join('.')} values: index ${field.index} not created'; END $$`);
    }
  }

  override async down(): Promise<void> {
    for (const field of UNIQUE_FIELDS) this.addSql(`DROP INDEX IF EXISTS ${field.index}`);
  }
}
