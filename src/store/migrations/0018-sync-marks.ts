/**
 * Migration 0018, sync generations (issue 16 item 5): a window pass streams the records system in pages and no
 * longer holds the whole window to find what vanished from it. Each pass takes the next generation of its stream
 * and stamps every record it saw with it; once every page is in, the resources of the window not stamped with this
 * generation are the ones the records system no longer lists (delete-by-absence, DESIGN.md section 5). A narrow
 * table of its own, so stamping 100,000 records rewrites no resource rows (on SQLite a WITHOUT ROWID table, half
 * the cost of a stamp). Frozen once released.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- frozen migrations must not depend on today's schema types */
import { PostgresAdapter, sql, type Kysely, type Migration } from 'kysely';

const isPostgres = (db: Kysely<any>): boolean => db.getExecutor().adapter instanceof PostgresAdapter;

async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('sync_generations')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('pass', 'text', (c) => c.notNull())
    .addColumn('generation', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('sync_generations_pk', ['tenant_id', 'pass'])
    .execute();
  await db.schema
    .createTable('sync_marks')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('pass', 'text', (c) => c.notNull())
    .addColumn('resource_type', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('generation', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('sync_marks_pk', ['tenant_id', 'pass', 'resource_type', 'id'])
    // On SQLite the rows live in the primary key's b-tree (no rowid table beside it): an upsert touches one tree.
    .$call((table) => (isPostgres(db) ? table : table.modifyEnd(sql`without rowid`)))
    .execute();
}

async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('sync_marks').ifExists().execute();
  await db.schema.dropTable('sync_generations').ifExists().execute();
}

/** Migration 0018: sync generations and the marks of what each pass saw. */
export const migration0018SyncMarks: Migration = { up, down };
