/**
 * The store's PostgreSQL pool as kysely sees it (issue 16): named prepared statements, and every statement told to
 * the store's kept reads.
 */
import type pg from 'pg';
import type { PostgresKeptReads } from './postgres-kept-reads.js';

/** Distinct statements named per store; past it, further texts run unnamed (parsed per call, as before). */
const NAMED_STATEMENT_LIMIT = 1000;
const namedClients = new WeakSet<pg.PoolClient>();

/**
 * The pool as kysely sees it, every connection running each parameterised statement as a named prepared statement
 * (issue 16): PostgreSQL parses and plans a named statement once per connection instead of on every call (the
 * token lookup was planned per request). Names are per SQL text, the same on every connection of the store.
 * Statements without parameters (DDL, `begin`, `commit`) stay unnamed.
 *
 * @see https://node-postgres.com/features/queries#prepared-statements
 */
export function namedStatementPool(
  pool: pg.Pool,
  kept: Pick<PostgresKeptReads, 'noteStatement'>,
): { connect(): Promise<pg.PoolClient>; end(): Promise<void> } {
  const names = new Map<string, string>();
  const nameOf = (text: string): string | undefined => {
    let name = names.get(text);
    if (name === undefined && names.size < NAMED_STATEMENT_LIMIT) {
      name = `sb_${names.size + 1}`;
      names.set(text, name);
    }
    return name;
  };
  return {
    async connect() {
      const client = await pool.connect();
      if (!namedClients.has(client)) {
        namedClients.add(client);
        const query = client.query.bind(client) as (...args: unknown[]) => unknown;
        // Named: only kysely's form, `query(text, values)`; other users of the pool (the rate limiter passes
        // callbacks) run as they are. Told to the kept reads: every statement given as text.
        (client as { query: unknown }).query = (...args: unknown[]) => {
          const [text, values] = args;
          const name =
            args.length === 2 && typeof text === 'string' && Array.isArray(values) && values.length > 0
              ? nameOf(text)
              : undefined;
          // What this process writes, for the reads it keeps (`postgres-kept-reads.ts`), told once it has settled.
          const settled = typeof text === 'string' ? kept.noteStatement(client, text) : undefined;
          const last = args[args.length - 1];
          if (settled && typeof last === 'function') {
            args[args.length - 1] = (...results: unknown[]) => {
              settled();
              return (last as (...a: unknown[]) => unknown)(...results);
            };
          }
          const result = name === undefined ? query(...args) : query({ name, text, values });
          if (settled && result instanceof Promise) void result.then(settled, settled);
          return result;
        };
      }
      return client;
    },
    end: () => pool.end(),
  };
}
