/**
 * Reads a SQLite store answers again from memory while the tables they read are unchanged (issue 16): the
 * freshness checks every search makes (the reference-data stamp, the availability versions, held time) read the
 * same few rows on every request, and between two writes they can only give the same answer.
 *
 * "Unchanged" is known exactly, without asking the tables:
 * - writes of other connections (another store on the file, another process) by `PRAGMA data_version`, which
 *   changes whenever one of them has committed (https://www.sqlite.org/pragma.html#pragma_data_version);
 * - writes of this connection by the tables its statements name: every statement kysely or the store runs is
 *   prepared through `sqlite-statements.ts`, which tells {@link KeptReads.noteStatement} its text before it runs, and a
 *   statement that may write raises the generation of each table it names (any statement not known to write only
 *   the tables it names, DDL included, raises every table's).
 * A kept answer carries the data version and the generations it was read at, taken just before the read (both are
 * synchronous, so nothing commits in between); a write that lands later raises them and the next read goes to the
 * database. Reads never run inside a transaction here (`readNow` refuses), so nothing kept was read from rows that
 * might roll back.
 */

/** Answers kept per store; far more than the distinct freshness reads of a store's tenants. */
const MAX_KEPT = 2000;
/** Statement texts classified per store; texts are the store's query shapes, a few hundred. */
const MAX_CLASSIFIED = 5000;

/** What a statement may write: nothing, these tables, or anything. */
type Writes = 'nothing' | readonly string[] | 'anything';

export interface KeptReads {
  /** Called with every statement's text before it runs on the connection. */
  noteStatement(sql: string): void;
  /**
   * The rows `read()` gave last time for `key`, when neither this connection has written any of `tables` nor
   * another connection committed anything since; otherwise `read()`'s rows (kept), or undefined when it had to queue.
   */
  rows(
    key: string,
    tables: readonly string[],
    read: () => unknown[] | undefined,
  ): readonly unknown[] | undefined;
}

export function keptReads(dataVersion: () => unknown): KeptReads {
  const classified = new Map<string, Writes>();
  const generations = new Map<string, number>();
  let everything = 0;
  const kept = new Map<string, { stamp: string; rows: readonly unknown[] }>();

  const stampOf = (tables: readonly string[]): string => {
    let stamp = `${String(dataVersion())}:${everything}`;
    for (const table of tables) stamp += `:${generations.get(table) ?? 0}`;
    return stamp;
  };

  return {
    noteStatement(sql) {
      let writes = classified.get(sql);
      if (writes === undefined) {
        writes = writesOf(sql);
        if (classified.size >= MAX_CLASSIFIED) classified.clear();
        classified.set(sql, writes);
      }
      if (writes === 'nothing') return;
      if (writes === 'anything') everything += 1;
      else for (const table of writes) generations.set(table, (generations.get(table) ?? 0) + 1);
    },
    rows(key, tables, read) {
      const stamp = stampOf(tables);
      const hit = kept.get(key);
      if (hit && hit.stamp === stamp) return hit.rows;
      const rows = read();
      if (rows === undefined) return undefined;
      const frozen = Object.freeze(rows.map((row) => Object.freeze(row)));
      kept.delete(key);
      kept.set(key, { stamp, rows: frozen });
      if (kept.size > MAX_KEPT) kept.delete(kept.keys().next().value as string);
      return frozen;
    },
  };
}

/** Statements that change no table's rows: transaction control, the busy timeout, the data version, statistics. */
const NO_WRITE =
  /^\s*(?:begin(?:\s+immediate)?|commit|rollback|savepoint\s+\w+|release\s+\w+|pragma\s+busy_timeout\s*=\s*\d+|pragma\s+data_version|analyze(?:\s+\w+)?)\s*;?\s*$/i;
/** The table after each writing keyword (`do update set` of an upsert yields a harmless extra name). */
const WRITTEN_TABLE =
  /\b(?:insert\s+(?:or\s+\w+\s+)?into|replace\s+into|update(?:\s+or\s+\w+)?|delete\s+from)\s+"?(\w+)"?/gi;
/** Statements that may change a table's shape or anything at all. */
const SCHEMA_OR_OTHER = /\b(?:create|drop|alter|vacuum|reindex|attach|detach|pragma)\b/i;

/** What `sql` may write, by its text alone; anything unclear may write anything. */
function writesOf(sql: string): Writes {
  if (NO_WRITE.test(sql)) return 'nothing';
  if (SCHEMA_OR_OTHER.test(sql)) return 'anything';
  const tables = [...sql.matchAll(WRITTEN_TABLE)].map((m) => (m[1] as string).toLowerCase());
  if (tables.length > 0) return [...new Set(tables)];
  return /^\s*(?:select|with)\b/i.test(sql) ? 'nothing' : 'anything';
}
