/**
 * What a SQL statement may write, from its text alone (issue 16): the kept reads of both dialects
 * (`sqlite-kept-reads.ts`, `postgres-kept-reads.ts`) forget an answer when this process writes one of the tables it
 * was read from. Anything unclear counts as writing everything.
 */

/** What a statement may write: nothing, these tables, or anything. */
export type Writes = 'nothing' | readonly string[] | 'anything';

/** Statement texts classified per store; texts are the store's query shapes, a few hundred. */
const MAX_CLASSIFIED = 5000;

/** {@link writesOf}, remembered per statement text. */
export function statementClassifier(): (sql: string) => Writes {
  const classified = new Map<string, Writes>();
  return (sql) => {
    let writes = classified.get(sql);
    if (writes === undefined) {
      writes = writesOf(sql);
      if (classified.size >= MAX_CLASSIFIED) classified.clear();
      classified.set(sql, writes);
    }
    return writes;
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
export function writesOf(sql: string): Writes {
  if (NO_WRITE.test(sql)) return 'nothing';
  if (SCHEMA_OR_OTHER.test(sql)) return 'anything';
  const tables = [...sql.matchAll(WRITTEN_TABLE)].map((m) => (m[1] as string).toLowerCase());
  if (tables.length > 0) return [...new Set(tables)];
  return /^\s*(?:select|with)\b/i.test(sql) ? 'nothing' : 'anything';
}
