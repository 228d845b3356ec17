/**
 * Values derived from stored rows, kept per store and recomputed when their stamp changes (issue 16): a reader asks
 * the database for a cheap stamp of the rows a value depends on, and gets the cached value while the stamp is the
 * same. Invalidation is therefore explicit and shared by every instance on one database: any write of those rows
 * (this process's sync, another instance's, a migration) changes the stamp.
 */

export interface DerivedCache {
  /**
   * The value cached under `key` for `stamp`, else `compute()`'s (cached for that stamp; concurrent callers with
   * the same stamp share one computation; a failed computation is not kept).
   */
  get<T>(key: string, stamp: string, compute: () => Promise<T>): Promise<T>;
  /** Forgets everything (tests; a store that was written behind the stamps' back). */
  clear(): void;
}

/** Keys per store; a key is one tenant's derived value, so this bounds memory for many tenants. */
const MAX_ENTRIES = 1000;

export function createDerivedCache(maxEntries = MAX_ENTRIES): DerivedCache {
  const entries = new Map<string, { stamp: string; value: Promise<unknown> }>();
  return {
    get<T>(key: string, stamp: string, compute: () => Promise<T>): Promise<T> {
      const entry = entries.get(key);
      if (entry && entry.stamp === stamp) return entry.value as Promise<T>;
      const value = compute();
      entries.delete(key);
      entries.set(key, { stamp, value });
      if (entries.size > maxEntries) entries.delete(entries.keys().next().value as string);
      value.catch(() => {
        if (entries.get(key)?.value === value) entries.delete(key);
      });
      return value;
    },
    clear: () => entries.clear(),
  };
}
