/**
 * Per-client rate limits shared by every instance on one PostgreSQL store (issue 11): two stores opened on one
 * database stand for two instances; a client's requests through either count against one limit. SQLite keeps the
 * counts in the process (one process owns the file).
 */
import { sql } from 'kysely';
import { describe, expect, it, vi } from 'vitest';
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

describe.each(testStoreFactories.filter((f) => f.name === 'postgres'))(
  'shared rate limits under concurrency ($name)',
  (factory) => {
    const db = useTestStore(factory);

    it('counts concurrent requests of two instances exactly, with fewer statements than requests', async () => {
      const handle = db();
      const other = await handle.openAnother();
      const limiterOf = (store: typeof other) =>
        createRateLimiter({
          ratePerSecond: 0.1,
          burst: 10,
          backend: (w) => createRateLimitBackend(store, w),
        });
      const first = limiterOf(handle.store);
      const second = limiterOf(other);
      const pool = handle.store.postgres?.pool;
      if (!pool) throw new Error('a PostgreSQL store has a pool');
      const query = vi.spyOn(pool, 'query');
      // 24 requests of one client and 6 of another, interleaved over both instances, all at once.
      const takes = Array.from({ length: 30 }, (_, i) =>
        (i % 2 ? second : first).take(i % 5 === 4 ? 'demo/other' : 'demo/client'),
      );
      const verdicts = await Promise.all(takes);
      const allowed = (key: number) =>
        verdicts.filter((v, i) => v.allowed && (i % 5 === 4) === (key === 1)).length;
      expect([allowed(0), allowed(1)]).toEqual([10, 6]);
      // Each allowed request saw its own place in the count: remaining 9, 8, … 0 once each per key.
      const remaining = verdicts.filter((v, i) => v.allowed && i % 5 !== 4).map((v) => v.remaining);
      expect(remaining.sort((a, b) => b - a)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
      const rows = await handle.store.db.selectFrom('rate_limits').selectAll().orderBy('key').execute();
      expect(rows.map((r) => [r.key, Number(r.points)])).toEqual([
        ['fhir-client:demo/client', 24],
        ['fhir-client:demo/other', 6],
      ]);
      // This instance's 15 requests went out in fewer statements than requests.
      const upserts = query.mock.calls.filter((call) =>
        JSON.stringify(call[0]).includes('rate_limits'),
      ).length;
      expect(upserts).toBeGreaterThan(0);
      expect(upserts).toBeLessThan(15);
    });

    it('answers from memory while the counters cannot be reached (the library insurance limiter)', async () => {
      const handle = db();
      const other = await handle.openAnother();
      const limiter = createRateLimiter({
        ratePerSecond: 0.1,
        burst: 2,
        backend: (w) => createRateLimitBackend(other, w),
      });
      expect((await limiter.take('demo/client')).allowed).toBe(true);
      await other.close();
      // Answered, not failed: the first allowed, and never more than the burst (the library's own count in memory).
      const verdicts = await Promise.all([1, 2, 3].map(() => limiter.take('demo/client')));
      expect(verdicts[0]?.allowed).toBe(true);
      expect(verdicts.filter((v) => v.allowed).length).toBeLessThanOrEqual(2);
      expect(verdicts[2]?.allowed).toBe(false);
    });
  },
);
