/**
 * Migration 0025, PostgreSQL only (issue 16): search pages are kept in memory too (`search-query.ts`), and a search
 * reads `search_tokens` besides `resources`, so writes of that table are announced as well, with migration 0023's
 * trigger function. Frozen once released.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- frozen migrations must not depend on today's schema types */
import { PostgresAdapter, sql, type Kysely, type Migration } from 'kysely';

const isPostgres = (db: Kysely<any>): boolean => db.getExecutor().adapter instanceof PostgresAdapter;

async function up(db: Kysely<any>): Promise<void> {
  if (!isPostgres(db)) return;
  await sql`create trigger switchboard_kept_changed after insert or update or delete or truncate on search_tokens
    for each statement execute function switchboard_kept_changed()`.execute(db);
}

async function down(db: Kysely<any>): Promise<void> {
  if (!isPostgres(db)) return;
  await sql`drop trigger switchboard_kept_changed on search_tokens`.execute(db);
}

/** Migration 0025: writes of search tokens announced to every instance (PostgreSQL). */
export const migration0025SearchTokenNotifications: Migration = { up, down };
