/**
 * better-sqlite3 statements of a SQLite store (issue 16): each SQL text prepared once per connection, and hot
 * reads run on them directly when nothing else is using the connection's transaction state.
 *
 * Why directly: kysely runs every query through its executor (plugins, an asynchronous connection queue, result
 * transforms): several promise hops per statement, which cost more than the indexed reads of a search themselves.
 * better-sqlite3 is synchronous, so a read that starts and finishes within one call cannot interleave with
 * anything; it only must not run inside another caller's open transaction, where it would see (and could act on)
 * rows that may still roll back. So: no transaction open → run it now; otherwise → queue through kysely as before.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type BetterSqlite3 from 'better-sqlite3';
import { keptReads } from './sqlite-kept-reads.js';

/** Statements kept per connection; the store's distinct query shapes number in the tens. */
const STATEMENT_CACHE_SIZE = 500;

export interface SqliteStatements {
  /** The connection as kysely's `SqliteDialect` takes it, preparing each SQL text once. */
  readonly database: Pick<BetterSqlite3.Database, 'close' | 'prepare'>;
  /**
   * The rows of a read-only statement, run at once; undefined when it must wait its turn (a transaction is open on
   * the connection, the statement writes, or SQLite was momentarily busy).
   */
  readNow(sql: string, parameters: readonly unknown[]): unknown[] | undefined;
  /**
   * {@link readNow}, answered again from memory (frozen) while nothing has written `tables` since
   * (`sqlite-kept-reads.ts`); undefined when it must wait its turn.
   */
  readKept(
    sql: string,
    parameters: readonly unknown[],
    tables: readonly string[],
  ): readonly unknown[] | undefined;
  /** Runs a statement that returns no rows (transaction control, pragmas) at once. */
  run(sql: string): void;
  /**
   * Takes SQLite's write lock (`BEGIN IMMEDIATE`). better-sqlite3 waits for a busy lock by blocking the thread,
   * which would also block another store of this process that holds the lock and needs the event loop to finish;
   * so the lock is polled with a zero busy timeout and asynchronous back-off, then the busy timeout is restored for
   * the statements that follow. Only for the holder of kysely's connection (`Store.write`).
   */
  beginImmediate(busyTimeoutMs: number): Promise<void>;
  /** Rolls back, ignoring a transaction SQLite already rolled back itself (for example after SQLITE_FULL). */
  rollbackQuietly(): void;
  /** Forgets every statement (after ANALYZE, so statements are planned afresh). */
  clear(): void;
}

/**
 * Least recently used statements are dropped past {@link STATEMENT_CACHE_SIZE}. A statement still being iterated
 * (a streamed query) is not handed out again; a fresh one is prepared for that call.
 */
export function sqliteStatements(database: BetterSqlite3.Database): SqliteStatements {
  const cache = new Map<string, BetterSqlite3.Statement>();
  const dataVersion = database.prepare('pragma data_version').pluck();
  const kept = keptReads(() => dataVersion.get());
  const prepare = (source: string): BetterSqlite3.Statement => {
    // Every statement run on the connection is prepared here first (kysely prepares on each execution).
    kept.noteStatement(source);
    const cached = cache.get(source);
    if (cached && !cached.busy) {
      // Most recently used last, so the first entry is the one to evict.
      cache.delete(source);
      cache.set(source, cached);
      return cached;
    }
    const statement = database.prepare(source);
    if (cached) return statement;
    cache.set(source, statement);
    if (cache.size > STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
    return statement;
  };
  const readNow = (sql: string, parameters: readonly unknown[]): unknown[] | undefined => {
    if (database.inTransaction) return undefined;
    const statement = prepare(sql);
    if (!statement.reader) return undefined;
    try {
      return statement.all(parameters) as unknown[];
    } catch (error) {
      // A write transaction taking its lock may have set a zero busy timeout for a moment: queue instead.
      if (isSqliteBusy(error)) return undefined;
      throw error;
    }
  };
  return {
    database: {
      close: () => database.close(),
      prepare: prepare as BetterSqlite3.Database['prepare'],
    },
    readKept(sql, parameters, tables) {
      if (database.inTransaction) return undefined;
      return kept.rows(`${sql}\u0000${JSON.stringify(parameters)}`, tables, () => readNow(sql, parameters));
    },
    readNow,
    run(sql) {
      prepare(sql).run();
    },
    async beginImmediate(busyTimeoutMs) {
      const deadline = Date.now() + busyTimeoutMs;
      let backoffMs = 1;
      prepare('pragma busy_timeout = 0').run();
      try {
        for (;;) {
          try {
            prepare('begin immediate').run();
            return;
          } catch (error) {
            if (!isSqliteBusy(error) || Date.now() >= deadline) throw error;
          }
          await sleep(backoffMs + Math.random() * backoffMs);
          backoffMs = Math.min(backoffMs * 2, 50);
        }
      } finally {
        prepare(`pragma busy_timeout = ${busyTimeoutMs}`).run();
      }
    },
    rollbackQuietly() {
      try {
        prepare('rollback').run();
      } catch {
        // Already rolled back by SQLite; the original error is what matters.
      }
    },
    clear: () => cache.clear(),
  };
}

export function isSqliteBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_BUSY_SNAPSHOT' || code === 'SQLITE_LOCKED';
}
