/**
 * Reads a PostgreSQL store answers again from memory while the tables they read are unchanged (issue 16): the three
 * freshness reads every Slot search makes (the reference-data stamp, the availability versions, held time; the
 * stamp for a Patient search too) were three of a Slot search's six statements, each a round trip, between two
 * writes always giving the same answer; search pages (`search-query.ts`) are kept the same way. SQLite keeps them
 * exactly (`sqlite-kept-reads.ts`); here:
 *
 * - **This process's writes** are seen through the statements it sends (`noteStatement`, called by the store's pool
 *   for every statement): once a statement that may write a kept table has committed — on its own, or with the
 *   `commit` of its transaction — the table's generation rises. A kept answer carries the generations taken before
 *   its read, so a commit that lands during or after the read makes the next read go to the database.
 * - **Other processes' writes** (other instances, an operator's psql) are announced by PostgreSQL: migration 0023
 *   puts a statement trigger on each kept table that calls `pg_notify`, delivered when its transaction commits to
 *   a connection of this process that LISTENs and raises the table's generation. Between another instance's commit
 *   and its notification arriving a read here may still be answered as of just before that commit — as if it had
 *   arrived a moment earlier. Measured on one machine over 1,000 commits (`pg_notify` from one client, LISTEN on
 *   another in the same process): the notification arrived no later than 0.03 ms after the writer's own commit
 *   acknowledgement at the 99th percentile, 3 ms at worst. On PostgreSQL every request first makes a
 *   round trip for the shared rate-limit counter, during which Node reads whatever notifications have arrived.
 * - **While not listening** (before the listening connection is up, after it dropped, until it is back), nothing is
 *   kept and every read goes to the database; coming back forgets everything kept.
 *
 * Kept tables are those migrations 0023 and 0025 give a trigger ({@link KEPT_TABLES}); a read naming another table
 * is never kept.
 */
import pg from 'pg';
import { keptAnswers } from './kept-answers.js';
import { statementClassifier } from './statement-writes.js';

/** The tables whose writes PostgreSQL announces (migrations 0023 and 0025). */
export const KEPT_TABLES: ReadonlySet<string> = new Set([
  'resources',
  'search_tokens',
  'availability_versions',
  'booking_claims',
]);
/** The channel migration 0023's triggers notify, with `schema.table` as the payload. */
export const KEPT_CHANNEL = 'switchboard_kept';

const RECONNECT_MS = { first: 100, max: 5_000 };

export interface PostgresKeptReads {
  /**
   * Called with every statement a connection of the store's pool runs, before it runs; returns what to call once
   * it has settled (committed, failed or rolled back), when there is anything to do then.
   */
  noteStatement(connection: object, sql: string): (() => void) | undefined;
  /** The rows `read()` gave last time for `key`, while none of `tables` has changed since; else `read()`'s rows. */
  rows<R>(key: string, tables: readonly string[], read: () => Promise<R[]>): Promise<readonly R[]>;
  /** Stops listening. */
  close(): Promise<void>;
}

export interface PostgresKeptReadsOptions {
  connectionString: string;
  /** The store's schema (`current_schema()` of its connections): notifications of other schemas are not ours. */
  schema: () => Promise<string>;
}

export function postgresKeptReads(options: PostgresKeptReadsOptions): PostgresKeptReads {
  const classify = statementClassifier();
  const generations = new Map<string, number>();
  /** Raised when listening starts or stops: answers kept in another listening session are never used. */
  let session = 0;
  let listening = false;
  let started = false;
  let closed = false;
  let client: pg.Client | undefined;
  let retryMs = RECONNECT_MS.first;
  let retryTimer: NodeJS.Timeout | undefined;
  const kept = keptAnswers();
  /** Kept tables written by each connection's open transaction, raised at its commit. */
  const pendingByConnection = new WeakMap<object, Set<string>>();

  const raise = (table: string): void => {
    generations.set(table, (generations.get(table) ?? 0) + 1);
  };
  const raiseAll = (): void => {
    for (const table of KEPT_TABLES) raise(table);
  };
  const stampOf = (tables: readonly string[]): string => {
    let stamp = String(session);
    for (const table of tables) stamp += `:${generations.get(table) ?? 0}`;
    return stamp;
  };

  const stopListening = (): void => {
    listening = false;
    session += 1;
    kept.clear();
    const dropped = client;
    client = undefined;
    dropped?.removeAllListeners('notification');
    void dropped?.end().catch(() => undefined);
    if (!closed && !retryTimer) {
      retryTimer = setTimeout(() => {
        retryTimer = undefined;
        void listen();
      }, retryMs);
      retryTimer.unref();
      retryMs = Math.min(retryMs * 2, RECONNECT_MS.max);
    }
  };

  const listen = async (): Promise<void> => {
    let schema: string;
    try {
      schema = await options.schema();
    } catch {
      stopListening();
      return;
    }
    const connection = new pg.Client({
      connectionString: options.connectionString,
      keepAlive: true,
      // Names the connection in pg_stat_activity: `switchboard-kept:<schema>`.
      application_name: `switchboard-kept:${schema}`.slice(0, 63),
    });
    client = connection;
    connection.on('error', () => {
      if (client === connection) stopListening();
    });
    connection.on('end', () => {
      if (client === connection) stopListening();
    });
    try {
      await connection.connect();
      connection.on('notification', (message) => {
        if (message.channel !== KEPT_CHANNEL || !message.payload) return;
        const dot = message.payload.indexOf('.');
        if (message.payload.slice(0, dot) === schema) raise(message.payload.slice(dot + 1));
      });
      await connection.query(`listen ${KEPT_CHANNEL}`);
      // Without migration 0023's triggers (a store not migrated yet) other instances' writes would go unannounced.
      const triggers = await connection.query<{ n: number }>(
        `select count(*)::int as n from pg_trigger t join pg_class c on c.oid = t.tgrelid
         join pg_namespace s on s.oid = c.relnamespace
         where t.tgname = $1 and s.nspname = $2 and c.relname = any($3)`,
        [KEPT_CHANNEL + '_changed', schema, [...KEPT_TABLES]],
      );
      if (triggers.rows[0]?.n !== KEPT_TABLES.size)
        throw new Error('the kept tables have no change triggers yet');
      if (client !== connection || closed) return;
      // Whatever committed while nobody listened may have changed anything.
      raiseAll();
      session += 1;
      listening = true;
      retryMs = RECONNECT_MS.first;
    } catch {
      if (client === connection) stopListening();
    }
  };

  return {
    noteStatement(connection, sql) {
      const writes = classify(sql);
      // Transaction control; `rollback to savepoint` ends no transaction.
      const verb = /^\s*(begin|start|commit|end|rollback(?!\s+to\b)|abort)\b/i.exec(sql)?.[1]?.toLowerCase();
      if (verb === 'begin' || verb === 'start') {
        pendingByConnection.set(connection, new Set());
        return undefined;
      }
      const pending = pendingByConnection.get(connection);
      if (verb !== undefined) {
        pendingByConnection.delete(connection);
        // A failed commit's outcome is unknown: raise as if it committed.
        return pending && pending.size > 0 ? () => pending.forEach(raise) : undefined;
      }
      if (writes === 'nothing') return undefined;
      const tables = writes === 'anything' ? [...KEPT_TABLES] : writes.filter((t) => KEPT_TABLES.has(t));
      if (tables.length === 0) return undefined;
      if (pending) {
        for (const table of tables) pending.add(table);
        return undefined;
      }
      return () => tables.forEach(raise);
    },

    async rows<R>(key: string, tables: readonly string[], read: () => Promise<R[]>): Promise<readonly R[]> {
      if (!started && !closed) {
        // Listening starts with the first kept read: most stores (tools, tests) never make one.
        started = true;
        void listen();
      }
      if (!listening || !tables.every((table) => KEPT_TABLES.has(table))) return read();
      const stamp = stampOf(tables);
      const hit = kept.get(key, stamp);
      if (hit) return hit as readonly R[];
      const rows = await read();
      return listening ? (kept.set(key, stamp, rows) as readonly R[]) : rows;
    },

    async close() {
      closed = true;
      listening = false;
      clearTimeout(retryTimer);
      const connection = client;
      client = undefined;
      await connection?.end().catch(() => undefined);
    },
  };
}
