import { describe, expect, it } from 'vitest';
import { createAuditTrail, readAuditTrail, verifyAuditTrail } from '../../src/audit/audit-trail.js';
import { createGroupCommit } from '../../src/store/group-commit.js';
import { failAuditInserts, healAuditInserts } from '../support/audit-faults.js';
import { auditCtx, countingWrites, slotRead } from '../support/audit-records.js';
import { testStoreFactories, useTestStore } from '../support/test-stores.js';

describe.each(testStoreFactories)('audit trail group commit ($name)', (factory) => {
  const testStore = useTestStore(factory);

  it('commits the records of concurrent requests together, numbered and chained per tenant', async () => {
    const { store, writes } = countingWrites(testStore().store);
    const audit = createAuditTrail(store);
    const n = 60;
    await Promise.all(
      Array.from({ length: n }, (_, i) =>
        audit.record(auditCtx(i % 3 === 0 ? 'other' : 'demo', `r-${i}`), slotRead(`s${i}`)),
      ),
    );
    const demo = await readAuditTrail(store, 'demo', { limit: 1000 });
    const other = await readAuditTrail(store, 'other', { limit: 1000 });
    expect(demo.length + other.length).toBe(n);
    expect(demo.map((e) => e.seq)).toEqual(demo.map((_, i) => i + 1));
    expect(other.map((e) => e.seq)).toEqual(other.map((_, i) => i + 1));
    // Submission order is kept within a tenant.
    const order = (entries: typeof demo) => entries.map((e) => Number(e.requestId.slice(2)));
    expect(order(demo)).toEqual([...order(demo)].sort((a, b) => a - b));
    expect(await verifyAuditTrail(store, 'demo')).toEqual({ ok: true, count: demo.length });
    expect(await verifyAuditTrail(store, 'other')).toEqual({ ok: true, count: other.length });
    // Not one transaction per record: that is the point.
    expect(writes()).toBeLessThan(n);
  });

  it('resolves each record only once its row is visible to another connection', async () => {
    const handle = testStore();
    const observer = await handle.openAnother();
    const audit = createAuditTrail(handle.store);
    const seen = await Promise.all(
      Array.from({ length: 30 }, async (_, i) => {
        await audit.record(auditCtx('demo', `r-${i}`), slotRead(`s${i}`));
        const rows = await readAuditTrail(observer, 'demo', { limit: 1000 });
        return rows.some((row) => row.requestId === `r-${i}`);
      }),
    );
    expect(seen).toEqual(seen.map(() => true));
  });

  it('rejects every record of a group whose commit fails, keeps none of them, and chains on afterwards', async () => {
    const { store } = testStore();
    const audit = createAuditTrail(store);
    await audit.record(auditCtx('demo', 'before'), slotRead('s0'));
    await failAuditInserts(store);
    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => audit.record(auditCtx('demo', `lost-${i}`), slotRead(`s${i}`))),
    );
    expect(outcomes.map((o) => o.status)).toEqual(outcomes.map(() => 'rejected'));
    await healAuditInserts(store);
    await audit.record(auditCtx('demo', 'after'), slotRead('s1'));
    expect((await readAuditTrail(store, 'demo')).map((e) => [e.seq, e.requestId])).toEqual([
      [1, 'before'],
      [2, 'after'],
    ]);
    expect(await verifyAuditTrail(store, 'demo')).toEqual({ ok: true, count: 2 });
  });

  it('numbers the groups of two processes sharing one database without gaps', async () => {
    const handle = testStore();
    const other = await handle.openAnother();
    const trails = [createAuditTrail(handle.store), createAuditTrail(other)];
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        trails[i % 2]?.record(auditCtx('demo', `r-${i}`), slotRead(`s${i}`)),
      ),
    );
    const entries = await readAuditTrail(handle.store, 'demo', { limit: 1000 });
    expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(new Set(entries.map((e) => e.requestId)).size).toBe(40);
    expect(await verifyAuditTrail(handle.store, 'demo')).toEqual({ ok: true, count: 40 });
  });
});

describe('group commit', () => {
  it('never puts more than maxGroup items in one commit, and commits each item exactly once in order', async () => {
    const groups: number[][] = [];
    const group = createGroupCommit<number>({
      maxGroup: 7,
      commit: (items) => {
        groups.push([...items]);
        return Promise.resolve();
      },
    });
    await Promise.all(Array.from({ length: 30 }, (_, i) => group.submit(i)));
    expect(groups.every((g) => g.length <= 7)).toBe(true);
    expect(groups.flat()).toEqual(Array.from({ length: 30 }, (_, i) => i));
    await group.idle();
  });

  it.each([false, true])(
    'starts a group at the next check phase, or (eager: %s) once the current microtasks ran',
    async (eager) => {
      const groups: string[][] = [];
      let finishFirst: () => void = () => undefined;
      const group = createGroupCommit<string>({
        eager,
        commit: (items) => {
          groups.push([...items]);
          return groups.length === 1
            ? new Promise<void>((resolve) => (finishFirst = resolve))
            : Promise.resolve();
        },
      });
      const immediate = new Promise<string[][]>((resolve) =>
        setImmediate(() => resolve(groups.map((g) => [...g]))),
      );
      const submitted = [group.submit('a'), group.submit('b')];
      await Promise.resolve();
      await Promise.resolve();
      // Submitted in the same job: one group either way; an eager one is already committing before the loop turns.
      expect(groups).toEqual(eager ? [['a', 'b']] : []);
      expect(await immediate).toEqual(eager ? [['a', 'b']] : []);
      while (groups.length === 0) await new Promise((resolve) => setImmediate(resolve));
      // While a group commits, the next gathers, and goes once it has committed.
      submitted.push(group.submit('c'), group.submit('d'));
      await new Promise((resolve) => setImmediate(resolve));
      expect(groups).toEqual([['a', 'b']]);
      finishFirst();
      await Promise.all(submitted);
      expect(groups).toEqual([
        ['a', 'b'],
        ['c', 'd'],
      ]);
      await group.idle();
    },
  );

  it('settles a submission only after the commit holding it settled', async () => {
    const commits: Array<{ items: readonly string[]; finish(error?: Error): void }> = [];
    const group = createGroupCommit<string>({
      commit: (items) =>
        new Promise<void>((resolve, reject) => {
          commits.push({ items, finish: (error) => (error ? reject(error) : resolve()) });
        }),
    });
    const settled: string[] = [];
    const a = group.submit('a').then(() => settled.push('a'));
    const b = group.submit('b').then(
      () => settled.push('b'),
      () => settled.push('b failed'),
    );
    while (commits.length === 0) await new Promise((resolve) => setImmediate(resolve));
    expect(commits[0]?.items).toEqual(['a', 'b']);
    const c = group.submit('c').then(
      () => settled.push('c'),
      () => settled.push('c failed'),
    );
    await new Promise((resolve) => setImmediate(resolve));
    // Nothing settles while its commit is open, and c waits for the next group.
    expect(settled).toEqual([]);
    expect(commits).toHaveLength(1);
    commits[0]?.finish();
    await Promise.all([a, b]);
    expect(settled).toEqual(['a', 'b']);
    while (commits.length === 1) await new Promise((resolve) => setImmediate(resolve));
    expect(commits[1]?.items).toEqual(['c']);
    commits[1]?.finish(new Error('disk full'));
    await c;
    expect(settled).toEqual(['a', 'b', 'c failed']);
  });
});
