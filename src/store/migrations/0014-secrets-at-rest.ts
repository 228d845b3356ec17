/**
 * Migration 0014, secrets at rest (issue 15 item 5): one row holding a known value sealed with the key the store's
 * secrets are sealed with, so a start with a missing or wrong key is refused before anything is read or written
 * with it. Existing plaintext secrets are sealed by the start-up pass (`src/store/secrets-at-rest.ts`), not here:
 * a migration has no key. Frozen once released.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- frozen migrations must not depend on today's schema types */
import type { Kysely, Migration } from 'kysely';

async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('secret_key_checks')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('key_id', 'text', (c) => c.notNull())
    .addColumn('sealed', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
}

async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('secret_key_checks').ifExists().execute();
}

/** Migration 0014: the secret-key check value. */
export const migration0014SecretsAtRest: Migration = { up, down };
