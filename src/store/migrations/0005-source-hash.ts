/**
 * A hash of each resource's upstream record as the connector read it (DESIGN.md section 1, read path): a sync
 * pass skips mapping and hashing records whose source did not change. Frozen once released.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- frozen migrations must not depend on today's schema types */
import type { Kysely, Migration } from 'kysely';

async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('resources').addColumn('source_hash', 'text').execute();
}

async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('resources').dropColumn('source_hash').execute();
}

export const migration0005SourceHash: Migration = { up, down };
