/**
 * Migration 0024, PostgreSQL only (issue 16): the per-client rate-limit counters (`rate_limits`, migration 0009)
 * become an UNLOGGED table. Every request upserts its client's counter in a transaction of its own, and on a logged
 * table that commit waits for the write-ahead log to reach the disk — a second flush per request besides the audit
 * row's, and the slower one to wait for at one connection. Counters need no durability: after a crash they start
 * again from zero (a client may get up to one more window's worth), and standbys do not need them.
 * Frozen once released.
 *
 * @see https://www.postgresql.org/docs/15/sql-createtable.html#SQL-CREATETABLE-UNLOGGED
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- frozen migrations must not depend on today's schema types */
import { PostgresAdapter, sql, type Kysely, type Migration } from 'kysely';

const isPostgres = (db: Kysely<any>): boolean => db.getExecutor().adapter instanceof PostgresAdapter;

async function up(db: Kysely<any>): Promise<void> {
  if (!isPostgres(db)) return;
  await sql`alter table rate_limits set unlogged`.execute(db);
}

async function down(db: Kysely<any>): Promise<void> {
  if (!isPostgres(db)) return;
  await sql`alter table rate_limits set logged`.execute(db);
}

/** Migration 0024: rate-limit counters without a log flush per request (PostgreSQL). */
export const migration0024UnloggedRateLimits: Migration = { up, down };
