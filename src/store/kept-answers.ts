/**
 * The memory behind kept reads (`sqlite-kept-reads.ts`, `postgres-kept-reads.ts`): answers by key, each with the
 * stamp (table generations) it was read at, bounded both in number and in size, the least recently stored going
 * first. Size matters since search pages are kept too (issue 16): a freshness read is a row or two, a page of
 * resources can be hundreds of kilobytes, so an answer's weight is the length of its string values, and one heavier
 * than a sixteenth of the budget is not kept at all. A kept search page's resources are also held parsed while the
 * page is kept (`search-query.ts`), which the weight does not count: a few times the text again, at most.
 */

/** Answers kept per store; far more than the distinct freshness reads and hot searches of a store's tenants. */
const MAX_ANSWERS = 2000;
/** String characters kept per store, about 2 bytes each: 32 MiB of V8 strings at most. */
const MAX_WEIGHT = 16 * 1024 * 1024;
/** What a value other than a string weighs. */
const SCALAR_WEIGHT = 8;

export interface KeptAnswers {
  /** The rows kept under `key` when they were read at `stamp`. */
  get(key: string, stamp: string): readonly unknown[] | undefined;
  /** Keeps `rows` (frozen, and returned) under `key` as read at `stamp`, unless they weigh too much. */
  set(key: string, stamp: string, rows: unknown[]): readonly unknown[];
  clear(): void;
}

export interface KeptAnswersLimits {
  maxAnswers?: number;
  maxWeight?: number;
}

export function keptAnswers(limits: KeptAnswersLimits = {}): KeptAnswers {
  const maxAnswers = limits.maxAnswers ?? MAX_ANSWERS;
  const maxWeight = limits.maxWeight ?? MAX_WEIGHT;
  const answers = new Map<string, { stamp: string; rows: readonly unknown[]; weight: number }>();
  let weight = 0;

  const remove = (key: string): void => {
    const answer = answers.get(key);
    if (!answer) return;
    answers.delete(key);
    weight -= answer.weight;
  };

  return {
    get(key, stamp) {
      const answer = answers.get(key);
      return answer && answer.stamp === stamp ? answer.rows : undefined;
    },
    set(key, stamp, rows) {
      const frozen = Object.freeze(rows.map((row) => Object.freeze(row)));
      remove(key);
      const rowsWeight = weightOf(frozen);
      if (rowsWeight > maxWeight / 16) return frozen;
      answers.set(key, { stamp, rows: frozen, weight: rowsWeight });
      weight += rowsWeight;
      while (answers.size > maxAnswers || weight > maxWeight) remove(answers.keys().next().value as string);
      return frozen;
    },
    clear() {
      answers.clear();
      weight = 0;
    },
  };
}

function weightOf(rows: readonly unknown[]): number {
  let weight = 0;
  for (const row of rows) {
    if (row === null || typeof row !== 'object') {
      weight += typeof row === 'string' ? row.length : SCALAR_WEIGHT;
      continue;
    }
    for (const value of Object.values(row))
      weight += typeof value === 'string' ? value.length : SCALAR_WEIGHT;
  }
  return weight;
}
