/**
 * Everything that differs between the two store dialects, in one place (DESIGN.md section 3): queries are shared,
 * and code that must behave differently asks a capability here instead of testing the dialect name.
 */

/** The two databases the store runs on. */
export type StoreDialect = 'sqlite' | 'postgres';

/** How one dialect must be driven. */
export interface StoreCapabilities {
  readonly dialect: StoreDialect;
  /**
   * `begin-immediate`: take SQLite's write lock when the transaction starts. A deferred `BEGIN` that upgrades to
   * a writer later cannot wait for the lock and fails SQLITE_BUSY even with a busy timeout (reliability.md 1.1:
   * 698 of 800 calls). `transaction`: PostgreSQL's ordinary transaction; row locks do the queueing.
   */
  readonly writeTransaction: 'begin-immediate' | 'transaction';
  /**
   * A statement run first in the migration transaction so concurrent starts migrate one at a time. None on SQLite:
   * `BEGIN IMMEDIATE` already excludes other writers. PostgreSQL: a transaction-scoped advisory lock keyed by the
   * schema, because `create table if not exists` alone races between two sessions.
   */
  readonly migrationLockSql: string | undefined;
  /**
   * `SELECT … FOR UPDATE SKIP LOCKED` exists (PostgreSQL), so concurrent claimers of work rows take disjoint rows
   * instead of queueing on each other's locks. SQLite has no row locks, and needs none: its writers take turns.
   */
  readonly skipLockedRows: boolean;
  /** `SELECT … FOR SHARE` / `FOR UPDATE` exist (PostgreSQL); SQLite has no row locks, its writers take turns. */
  readonly rowLocks: boolean;
  /**
   * Several processes share this store and coordinate through lease rows (issue 11). False on SQLite: one process
   * owns the file, and its work lease is always held.
   */
  readonly sharedLeases: boolean;
  /** Driver error codes meaning "unique or primary key constraint violated". */
  readonly uniqueViolationCodes: readonly string[];
  /**
   * The collation that orders text by code point, for range conditions that must agree with `substr` (a prefix as
   * an indexed range, issue 16): none needed on SQLite (BINARY is the default), `C` on PostgreSQL, whose default
   * collation may be a language's (migration 0012 indexes search tokens in it).
   */
  readonly codePointCollation: string | undefined;
  /**
   * A list of text values binds as one array parameter (`$n::text[]`, PostgreSQL), so a lookup by ids is one
   * parameter and one prepared statement for any number of ids (`anyOf` in `batching.ts`; issue 16). SQLite
   * has no array type: an in-list, a parameter per value.
   */
  readonly textArrayParameters: boolean;
}

const SQLITE: StoreCapabilities = Object.freeze({
  dialect: 'sqlite',
  writeTransaction: 'begin-immediate',
  migrationLockSql: undefined,
  skipLockedRows: false,
  rowLocks: false,
  sharedLeases: false,
  uniqueViolationCodes: Object.freeze(['SQLITE_CONSTRAINT_PRIMARYKEY', 'SQLITE_CONSTRAINT_UNIQUE']),
  codePointCollation: undefined,
  textArrayParameters: false,
});

const POSTGRES: StoreCapabilities = Object.freeze({
  dialect: 'postgres',
  writeTransaction: 'transaction',
  migrationLockSql: "select pg_advisory_xact_lock(hashtext('switchboard-migrations:' || current_schema()))",
  skipLockedRows: true,
  rowLocks: true,
  sharedLeases: true,
  uniqueViolationCodes: Object.freeze(['23505']),
  codePointCollation: 'C',
  textArrayParameters: true,
});

/** The capabilities of `dialect`. @see DESIGN.md section 3 */
export function capabilitiesOf(dialect: StoreDialect): StoreCapabilities {
  switch (dialect) {
    case 'sqlite':
      return SQLITE;
    case 'postgres':
      return POSTGRES;
  }
}

/**
 * Bind parameters per statement that every dialect accepts (SQLite ≥ 3.32 allows 32,766, PostgreSQL 65,535);
 * bulk inserts are chunked below it.
 */
export const MAX_BIND_PARAMETERS = 30_000;

/**
 * True when `error` is the driver's report of a unique or primary key violation (a lost race for a claim).
 *
 * @see DESIGN.md section 3
 */
export function isUniqueViolation(capabilities: StoreCapabilities, error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && capabilities.uniqueViolationCodes.includes(code);
}
