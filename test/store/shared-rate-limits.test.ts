/**
 * Per-client rate limits shared by every instance on one PostgreSQL store (issue 11): two stores opened on one
 * database stand for two instances; a client's requests through either count against one limit. SQLite keeps the
 * counts in the process (one process owns the file).
 */
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { createRateLimiter } from '../../fhir/request-limits.js';
import { createRateLimitBackend } from '../../src/store/shared-rate-limits.js';
import { testStoreFactories, useTestStore } from '../support/test-stores.js';

describe.each(testStoreFactories)('shared per-client rate limits ($name)', (factory) => {
  const db = useTestStore(factory);

  it(
    factory.name === 'postgres'
      ? 'counts a client once across instances: three requests allowed in all, not three per instance'
      : 'counts per process on SQLite',
    async () => {
      const handle = db();
      const other = await handle.openAnother();
      // 3 requests per 60-s window, so the window cannot roll over during the test.
      const limiterOf = (store: typeof other) =>
        createRateLimiter({
          ratePerSecond: 0.05,
          burst: 3,
          backend: (w) => createRateLimitBackend(store, w),
        });
      const first = limiterOf(handle.store);
      const second = limiterOf(other);
      const verdicts = [];
      for (let i = 0; i < 6; i++) verdicts.push((await (i % 2 ? second : first).take('demo/client')).allowed);
      expect(verdicts.filter(Boolean)).toHaveLength(factory.name === 'postgres' ? 3 : 6);
      if (factory.name === 'postgres') {
        const rows = await handle.store.db.selectFrom('rate_limits').selectAll().execute();
        expect(rows.map((r) => [r.key, Number(r.points)])).toEqual([['fhir-client:demo/client', 6]]);
      }
    },
  );

  if (factory.name === 'postgres') {
    it('keeps the counters in an unlogged table: a request waits for no log flush to count', async () => {
      const { store } = db();
      const result = await sql<{ persistence: string }>`
        select relpersistence as persistence from pg_class where oid = to_regclass('rate_limits')`.execute(
        store.db,
      );
      expect(result.rows[0]?.persistence).toBe('u');
    });
  }
});
