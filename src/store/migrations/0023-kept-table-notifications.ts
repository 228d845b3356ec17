/**
 * Migration 0023, PostgreSQL only (issue 16): every committed write of a table whose reads a store keeps in memory
 * (`postgres-kept-reads.ts`) is announced with `pg_notify('switchboard_kept', '<schema>.<table>')`, so each instance
 * forgets what it kept of that table when another one writes it. A statement trigger: one notification per
 * statement, and PostgreSQL folds identical ones within a transaction and delivers them at its commit (none for a
 * rolled-back one). SQLite needs none (`PRAGMA data_version`). Frozen once released.
 *
 * @see https://www.postgresql.org/docs/15/sql-notify.html
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- frozen migrations must not depend on today's schema types */
import { PostgresAdapter, sql, type Kysely, type Migration } from 'kysely';

const isPostgres = (db: Kysely<any>): boolean => db.getExecutor().adapter instanceof PostgresAdapter;
const TABLES = ['resources', 'availability_versions', 'booking_claims'];

async function up(db: Kysely<any>): Promise<void> {
  if (!isPostgres(db)) return;
  await sql`create function switchboard_kept_changed() returns trigger language plpgsql as $$
    begin
      perform pg_notify('switchboard_kept', tg_table_schema || '.' || tg_table_name);
      return null;
    end $$`.execute(db);
  for (const table of TABLES) {
    await sql`create trigger switchboard_kept_changed after insert or update or delete or truncate on ${sql.table(table)}
      for each statement execute function switchboard_kept_changed()`.execute(db);
  }
}

async function down(db: Kysely<any>): Promise<void> {
  if (!isPostgres(db)) return;
  for (const table of TABLES)
    await sql`drop trigger switchboard_kept_changed on ${sql.table(table)}`.execute(db);
  await sql`drop function switchboard_kept_changed()`.execute(db);
}

/** Migration 0023: writes of kept tables announced to every instance (PostgreSQL). */
export const migration0023KeptTableNotifications: Migration = { up, down };
