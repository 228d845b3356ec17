/**
 * Opening the store: kysely over better-sqlite3 (default) or PostgreSQL, one query layer for both
 * (DESIGN.md section 3).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import {
  CompiledQuery,
  Kysely,
  PostgresDialect,
  SqliteDialect,
  sql,
  type Compilable,
  type RawBuilder,
} from 'kysely';
import pg from 'pg';
import { capabilitiesOf } from './dialect-capabilities.js';
import type { StoreCapabilities, StoreDialect } from './dialect-capabilities.js';
import type { Database } from './schema.js';
import { assertFence, type Fence } from './lease-rows.js';
import { parseStoreUrl } from './store-url.js';
import { ScopedContext } from './scoped-context.js';
import { postgresKeptReads } from './postgres-kept-reads.js';
import { namedStatementPool } from './postgres-pool.js';
import { createSecretBox, type SecretBox } from './secret-box.js';
import { createDerivedCache, type DerivedCache } from './derived-cache.js';
import { SqliteLiteralLimitsPlugin } from './sqlite-literal-limits.js';
import { sqliteStatements } from './sqlite-statements.js';
import type { SqlStatement } from './sql-text.js';

/** A handle on an executing write transaction: use it, and only it, for every query inside {@link Store.write}. */
export type StoreTransaction = Kysely<Database>;

/** An open store. Built by {@link openStore}; owned by whoever opened it, who must {@link Store.close} it. */
export interface Store {
  /**
   * For reads. On SQLite all queries of one store share one connection, so never use `db` inside
   * {@link Store.write}'s callback: it would wait for the transaction that is waiting for it.
   */
  readonly db: Kysely<Database>;
  /**
   * Runs a read-only query and resolves to its rows: the path of the hot reads (issue 16). On SQLite, while no
   * transaction is open on the store's connection, the statement runs at once on better-sqlite3, without kysely's
   * executor and connection queue (`sqlite-statements.ts`); otherwise, and on PostgreSQL, as `db` runs it.
   */
  read<R>(query: ReadQuery<R>): Promise<R[]>;
  /**
   * {@link Store.read} for the freshness checks every search makes: on SQLite the rows are kept (frozen) and
   * answered again while no write to `tables` has been committed by this connection, nor anything by another
   * (`sqlite-kept-reads.ts`); on PostgreSQL while this process has not written them since and no notification
   * of another's commit to them has arrived (`postgres-kept-reads.ts`; only the tables migration 0023 announces).
   */
  readKept<R>(query: ReadQuery<R>, tables: readonly string[]): Promise<readonly R[]>;
  readonly dialect: StoreDialect;
  readonly capabilities: StoreCapabilities;
  /**
   * PostgreSQL: the connection pool and schema, for a library that keeps its own table in this database (the
   * shared rate limits, `src/store/shared-rate-limits.ts`). Undefined on SQLite.
   */
  readonly postgres?: { readonly pool: pg.Pool; readonly schema: string | undefined };
  /** Seals and opens the secrets the store keeps (webhook signing secrets, channel headers): issue 15 item 5. */
  readonly secrets: SecretBox;
  /** The store's clock; queries stamp rows with it so tests can pin time. */
  now(): Date;
  /** Values derived from stored rows (schedules, zones), recomputed when the rows change (`derived-cache.ts`). */
  readonly derived: DerivedCache;
  /**
   * Runs `fn` in one write transaction and commits when it resolves (rolls back when it throws).
   * SQLite: `BEGIN IMMEDIATE` on the store's connection, so the write lock is taken up front and concurrent
   * writers (other processes, or other stores in this process) queue instead of failing SQLITE_BUSY.
   * PostgreSQL: an ordinary READ COMMITTED transaction.
   * Nested calls are refused: a second transaction could not see the first's writes (PostgreSQL) or would wait
   * for it forever (SQLite).
   */
  write<T>(fn: (trx: StoreTransaction) => Promise<T>): Promise<T>;
  /**
   * Runs `fn` fenced by a work lease (issue 11): every {@link Store.write} started inside it (in its async context)
   * checks, in its own transaction just before committing, that `fence` is still the lease's current holder and
   * epoch and unexpired, and rolls back with a `LeaseLostError` otherwise. So a sync pass or a saga recovery step
   * begun under a lease that has since passed to another instance can write nothing. `undefined` runs `fn` as is
   * (a lease that is always held: SQLite, or work that needs none).
   */
  fenced<T>(fence: Fence | undefined, fn: () => Promise<T>): Promise<T>;
  /** Resolves when the database answers a trivial query; for readiness checks. */
  ping(): Promise<void>;
  /**
   * Refreshes query-planner statistics; call after bulk writes (a first sync). SQLite keeps none until asked and
   * then plans search-token lookups as scans (BENCHMARKS.md, facade-search: 115 → 333 req/s after ANALYZE);
   * PostgreSQL's autovacuum does it by itself, but a first sync writes faster than it notices, so there it is
   * `VACUUM (ANALYZE)` of the store's tables (statistics and the visibility map index-only scans need). On SQLite
   * the STAT4 samples are dropped afterwards (they make every range statement re-prepare per execution, issue 16).
   * Never inside {@link Store.write}.
   */
  analyze(): Promise<void>;
  /** Closes the connection(s). Idempotent. */
  close(): Promise<void>;
}

/**
 * A query {@link Store.read} takes: a builder, a raw `sql` template, one compiled already, or a statement's text in
 * the store's dialect with its parameters (`sql-text.ts`).
 */
export type ReadQuery<R> = Compilable<R> | RawBuilder<R> | CompiledQuery<R> | SqlStatement;

function compiledOf<R>(query: ReadQuery<R>, db: Kysely<Database>): CompiledQuery<R> {
  if ('sql' in query)
    return 'query' in query
      ? query
      : (CompiledQuery.raw(query.sql, [...query.parameters]) as CompiledQuery<R>);
  // A raw template compiles against the executor given; a builder already has its own and ignores the argument.
  return (query as RawBuilder<R>).compile(db);
}

/** Options of {@link openStore}. */
export interface OpenStoreOptions {
  /**
   * PostgreSQL only: keep every table in this schema (created if missing) by setting `search_path` on each
   * connection. Lower-case letters, digits and `_`. Tests isolate themselves with it.
   */
  schema?: string;
  /** The clock rows are stamped with; defaults to the system clock. */
  clock?: () => Date;
  /** SQLite busy timeout and the longest a write waits for the write lock, in ms; default 5000. */
  busyTimeoutMs?: number;
  /** Keys of secrets at rest: the first seals, all open (previous keys after a rotation). None: nothing seals. */
  secretKeys?: readonly Uint8Array[];
}

const DEFAULT_BUSY_TIMEOUT_MS = 5000;
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
/** PostgreSQL type oid of `int8`/`bigint`, returned by pg as a string unless told otherwise. */
const INT8_OID = 20;

/**
 * Opens the store at `url` (see {@link parseStoreUrl}). Does not migrate: call `migrateToLatest` next.
 *
 * SQLite: creates the parent directory and sets `journal_mode=WAL`, `busy_timeout`, `synchronous=NORMAL` and
 * `foreign_keys=ON`. PostgreSQL: a `pg` pool whose `bigint` columns come back as numbers.
 *
 * @see DESIGN.md section 3
 */
export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<Store> {
  const location = parseStoreUrl(url);
  const clock = options.clock ?? (() => new Date());
  const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  const secrets = createSecretBox(options.secretKeys ?? []);
  switch (location.dialect) {
    case 'sqlite':
      if (options.schema !== undefined) throw new RangeError('the schema option applies to PostgreSQL only');
      return openSqliteStore(location.filename, clock, busyTimeoutMs, secrets);
    case 'postgres':
      return openPostgresStore(location.connectionString, options.schema, clock, secrets);
  }
}

function openSqliteStore(
  filename: string,
  clock: () => Date,
  busyTimeoutMs: number,
  secrets: SecretBox,
): Store {
  const inMemory = filename === ':memory:';
  if (!inMemory) mkdirSync(dirname(filename), { recursive: true });
  const database = new BetterSqlite3(filename);
  try {
    database.pragma('journal_mode = WAL');
    database.pragma(`busy_timeout = ${busyTimeoutMs}`);
    database.pragma('synchronous = NORMAL');
    database.pragma('foreign_keys = ON');
  } catch (error) {
    database.close();
    throw error;
  }
  const statements = sqliteStatements(database);
  const db = new Kysely<Database>({
    dialect: new SqliteDialect({ database: statements.database }),
    plugins: [new SqliteLiteralLimitsPlugin()],
  });

  const write = <T>(fn: (trx: StoreTransaction) => Promise<T>): Promise<T> =>
    // One borrowed connection for the whole transaction: kysely's own transaction() would issue a deferred BEGIN.
    // Transaction control runs on better-sqlite3 directly: the connection is this callback's until it returns.
    db.connection().execute(async (conn) => {
      await statements.beginImmediate(busyTimeoutMs);
      let result: T;
      try {
        result = await fn(conn);
      } catch (error) {
        statements.rollbackQuietly();
        throw error;
      }
      try {
        statements.run('commit');
      } catch (error) {
        statements.rollbackQuietly();
        throw error;
      }
      return result;
    });

  const read = <R>(query: ReadQuery<R>): Promise<R[]> => {
    const statement: ReadQuery<R> & SqlStatement = 'sql' in query ? query : compiledOf(query, db);
    const rows = statements.readNow(statement.sql, statement.parameters);
    return rows === undefined
      ? db.executeQuery(compiledOf<R>(statement, db)).then((result) => result.rows)
      : Promise.resolve(rows as R[]);
  };
  const readKept = <R>(query: ReadQuery<R>, tables: readonly string[]): Promise<readonly R[]> => {
    const statement: ReadQuery<R> & SqlStatement = 'sql' in query ? query : compiledOf(query, db);
    const rows = statements.readKept(statement.sql, statement.parameters, tables);
    return rows === undefined ? read(statement) : Promise.resolve(rows as readonly R[]);
  };
  return buildStore(db, 'sqlite', clock, write, { read, readKept }, secrets, async () => {
    await sql`analyze`.execute(db);
    await dropRangeStatistics(db);
    statements.clear();
  });
}

/**
 * better-sqlite3 is built with SQLite's STAT4, whose samples make SQLite re-prepare every statement with a bound
 * range parameter on each execution (to plan for the bound values), which undoes the statement cache: the Slot
 * store query took 241 µs with them and 88 µs without (issue 16). sqlite_stat1's per-index figures are what the
 * planner needs for the search-token lookups, so the samples are dropped and the statistics reloaded.
 *
 * @see https://www.sqlite.org/fileformat2.html#stat4tab
 */
async function dropRangeStatistics(db: Kysely<Database>): Promise<void> {
  const stat4 = await sql<{
    name: string;
  }>`select name from sqlite_schema where name = 'sqlite_stat4'`.execute(db);
  if (stat4.rows.length === 0) return;
  await sql`delete from sqlite_stat4`.execute(db);
  // Makes the planner re-read the statistics tables (https://www.sqlite.org/lang_analyze.html).
  await sql`analyze sqlite_schema`.execute(db);
}

async function openPostgresStore(
  connectionString: string,
  schema: string | undefined,
  clock: () => Date,
  secrets: SecretBox,
): Promise<Store> {
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new RangeError(
      `invalid schema name ${JSON.stringify(schema)}: use lower-case letters, digits and _`,
    );
  }
  const pool = new pg.Pool({
    connectionString,
    // Sequence numbers and counts are bigint; they stay far below 2^53, and numbers keep both dialects alike.
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID && format !== 'binary'
          ? (value: string) => Number(value)
          : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
    },
  });
  const kept = postgresKeptReads({
    connectionString,
    schema: async () => {
      const result = await sql<{ schema: string }>`select current_schema() as schema`.execute(db);
      return result.rows[0]?.schema ?? 'public';
    },
  });
  // Before the first connection: every connection of the pool must be wrapped.
  const namedPool = namedStatementPool(pool, kept);
  try {
    if (schema !== undefined) await createSchemaIfMissing(pool, schema);
  } catch (error) {
    await pool.end();
    throw error;
  }
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({
      pool: namedPool,
      onCreateConnection:
        schema === undefined
          ? undefined
          : (connection) =>
              connection.executeQuery(CompiledQuery.raw(`set search_path to "${schema}"`)).then(),
    }),
  });
  const write = <T>(fn: (trx: StoreTransaction) => Promise<T>): Promise<T> => db.transaction().execute(fn);
  // The store's own tables only: a bare ANALYZE covers every schema of the database, and a pass may refresh
  // statistics mid-way (sync/apply-records.ts) in a database other stores (schemas) share. VACUUM as well, as
  // autovacuum would once it noticed: it sets the visibility map, without which the covering indexes of a pass's
  // lookups (migration 0022) still read every row from the table (issue 16, sync-diff: the skip lookup 1.24-1.32 s
  // before, 0.92-1.06 s after, on a fresh load of 100,000). It reads only pages changed since the last one, and
  // skips a table another session is vacuuming (another instance's pass) rather than wait.
  const analyze = async () => {
    const tables = await sql<{ name: string }>`
      select table_name as name from information_schema.tables
      where table_schema = current_schema() and table_type = 'BASE TABLE'`.execute(db);
    if (tables.rows.length === 0) return;
    await sql`vacuum (analyze, skip_locked) ${sql.join(tables.rows.map((t) => sql.id(t.name)))}`.execute(db);
  };
  const read = <R>(query: ReadQuery<R>): Promise<R[]> =>
    db.executeQuery(compiledOf(query, db)).then((result) => result.rows);
  const readKept = <R>(query: ReadQuery<R>, tables: readonly string[]): Promise<readonly R[]> => {
    const compiled = compiledOf(query, db);
    const key = `${compiled.sql}\u0000${JSON.stringify(compiled.parameters)}`;
    return kept.rows(key, tables, () => db.executeQuery(compiled).then((result) => result.rows));
  };
  const store = buildStore(db, 'postgres', clock, write, { read, readKept }, secrets, analyze);
  const closeStore = store.close;
  return {
    ...store,
    close: () => kept.close().then(closeStore),
    postgres: { pool, schema },
  };
}

async function createSchemaIfMissing(pool: pg.Pool, schema: string): Promise<void> {
  try {
    await pool.query(`create schema if not exists "${schema}"`);
  } catch (error) {
    // Two stores creating the same schema at once can both pass "if not exists"; the loser sees 23505/42P06.
    const exists = await pool.query('select 1 from pg_namespace where nspname = $1', [schema]);
    if (exists.rowCount === 0) throw error;
  }
}

function buildStore(
  db: Kysely<Database>,
  dialect: StoreDialect,
  clock: () => Date,
  runWrite: <T>(fn: (trx: StoreTransaction) => Promise<T>) => Promise<T>,
  reads: Pick<Store, 'read' | 'readKept'>,
  secrets: SecretBox,
  analyze: () => Promise<void>,
): Store {
  // Per store, not per module: many stores (tests, several apps) may live in one process.
  const insideWrite = new ScopedContext<{ active: boolean }>();
  const currentFence = new ScopedContext<Fence | undefined>();
  const capabilities = capabilitiesOf(dialect);
  const fencedWrite = <T>(fence: Fence | undefined, fn: (trx: StoreTransaction) => Promise<T>): Promise<T> =>
    fence === undefined
      ? runWrite(fn)
      : runWrite(async (trx) => {
          const result = await fn(trx);
          // Last, so the lease row is locked only for the commit; wall time, like the lease's expiry.
          await assertFence(trx, fence, Date.now(), capabilities.rowLocks);
          return result;
        });
  let closed: Promise<void> | undefined;
  return {
    db,
    ...reads,
    dialect,
    capabilities,
    secrets,
    derived: createDerivedCache(),
    now: () => clock(),
    write<T>(fn: (trx: StoreTransaction) => Promise<T>): Promise<T> {
      if (insideWrite.get()?.active) {
        return Promise.reject(
          new Error('store.write() called inside a write transaction: use its trx instead'),
        );
      }
      // The marker is switched off at the end so work that merely started inside a write may write later.
      const marker = { active: true };
      const fence = currentFence.get();
      return insideWrite
        .run(marker, () => fencedWrite(fence, fn))
        .finally(() => {
          marker.active = false;
        });
    },
    fenced<T>(fence: Fence | undefined, fn: () => Promise<T>): Promise<T> {
      // No fence inside no fence (SQLite, work without a lease): nothing to carry.
      if (fence === undefined && currentFence.get() === undefined) return fn();
      return currentFence.run(fence, fn);
    },
    async ping(): Promise<void> {
      await sql`select 1`.execute(db);
    },
    analyze,
    close(): Promise<void> {
      closed ??= db.destroy();
      return closed;
    },
  };
}
