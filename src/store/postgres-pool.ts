/**
 * The store's PostgreSQL pool as kysely sees it (issue 16): named prepared statements, and every statement told to
 * the store's kept reads.
 */
import type pg from 'pg';
import type { PostgresKeptReads } from './postgres-kept-reads.js';

/** Distinct statements named per store; past it, further texts run unnamed (parsed per call, as before). */
const NAMED_STATEMENT_LIMIT = 1000;

/**
 * The pool as kysely sees it, every connection running each parameterised statement as a named prepared statement
 * (issue 16): PostgreSQL parses and plans a named statement once per connection instead of on every call (the
 * token lookup was planned per request). Names are per SQL text, the same on every connection of the store.
 * Statements without parameters (DDL, `begin`, `commit`) stay unnamed. The rate limiter's counter upsert, which
 * reaches the same connections through `pool.query`, is named too (it was parsed and planned on every request).
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
  // Every connection the pool opens, whoever asked for it (kysely, or the rate limiter through `pool.query`).
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    // Every parameterised statement given as (text, values) or (text, values, callback) — kysely's form and
    // the rate limiter's — runs named; every statement given as text is told to the kept reads.
    (client as { query: unknown }).query = (...args: unknown[]) => {
      const [text, values, callback] = args;
      if (typeof text !== 'string') return query(...args);
      // What this process writes, for the reads it keeps (`postgres-kept-reads.ts`), told once it has settled.
      const settled = kept.noteStatement(client, text);
      const last = args[args.length - 1];
      if (settled && typeof last === 'function') {
        args[args.length - 1] = (...results: unknown[]) => {
          settled();
          return (last as (...a: unknown[]) => unknown)(...results);
        };
      }
      const named =
        Array.isArray(values) &&
        values.length > 0 &&
        (args.length === 2 || (args.length === 3 && typeof callback === 'function'));
      const name = named ? nameOf(text) : undefined;
      const result = name === undefined ? query(...args) : query({ name, text, values }, ...args.slice(2));
      if (settled && result instanceof Promise) void result.then(settled, settled);
      return result;
    };
  });
  return { connect: () => pool.connect(), end: () => pool.end() };
}
