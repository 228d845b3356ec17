/**
 * Name prefixes as indexed ranges (issue 16): a prefix search on search tokens compares `value` in code point
 * order (`condition-sql.ts`). SQLite's default BINARY collation is that order, so its lookup index serves the range
 * as it is; PostgreSQL's default collation may be a language's, so it gets the same index in collation "C".
 * Frozen once released.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- frozen migrations must not depend on today's schema types */
import { PostgresAdapter, sql, type Kysely, type Migration } from 'kysely';

const isPostgres = (db: Kysely<any>): boolean => db.getExecutor().adapter instanceof PostgresAdapter;

async function up(db: Kysely<any>): Promise<void> {
  if (!isPostgres(db)) return;
  await sql`create index search_tokens_prefix_idx on search_tokens (tenant_id, resource_type, param, value collate "C")`.execute(
    db,
  );
}

async function down(db: Kysely<any>): Promise<void> {
  if (!isPostgres(db)) return;
  await sql`drop index search_tokens_prefix_idx`.execute(db);
}

export const migration0012PrefixIndex: Migration = { up, down };
