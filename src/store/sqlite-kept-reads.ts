/**
 * Reads a SQLite store answers again from memory while the tables they read are unchanged (issue 16): the
 * freshness checks every search makes (the reference-data stamp, the availability versions, held time) read the
 * same few rows on every request, and between two writes they can only give the same answer; so does a search page
 * (`search-query.ts`) repeated between two writes of `resources` and `search_tokens`. Memory: `kept-answers.ts`.
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
import { keptAnswers } from './kept-answers.js';
import { statementClassifier } from './statement-writes.js';

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
  const classify = statementClassifier();
  const generations = new Map<string, number>();
  let everything = 0;
  const kept = keptAnswers();

  const stampOf = (tables: readonly string[]): string => {
    let stamp = `${String(dataVersion())}:${everything}`;
    for (const table of tables) stamp += `:${generations.get(table) ?? 0}`;
    return stamp;
  };

  return {
    noteStatement(sql) {
      const writes = classify(sql);
      if (writes === 'nothing') return;
      if (writes === 'anything') everything += 1;
      else for (const table of writes) generations.set(table, (generations.get(table) ?? 0) + 1);
    },
    rows(key, tables, read) {
      const stamp = stampOf(tables);
      const hit = kept.get(key, stamp);
      if (hit) return hit;
      const rows = read();
      return rows === undefined ? undefined : kept.set(key, stamp, rows);
    },
  };
}
