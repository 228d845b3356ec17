/**
 * The audit group's one-statement append at the tenant's known last row (`src/audit/tip-append.ts`, PostgreSQL):
 * used while this process's tip is current, and never trusted once another writer has moved the counter.
 */
import { describe, expect, it } from 'vitest';
import {
  appendAuditEvent,
  createAuditTrail,
  readAuditTrail,
  verifyAuditTrail,
} from '../../src/audit/audit-trail.js';
import { failAuditInserts, healAuditInserts } from '../support/audit-faults.js';
import { auditCtx, countingWrites, slotRead } from '../support/audit-records.js';
import { testStoreFactories, useTestStore } from '../support/test-stores.js';

describe.each(testStoreFactories)('audit append at the known tip ($name)', (factory) => {
  const testStore = useTestStore(factory);

  it('appends one request after another without a write transaction each on PostgreSQL', async () => {
    const { store, writes } = countingWrites(testStore().store);
    const audit = createAuditTrail(store);
    for (let i = 0; i < 10; i++) await audit.record(auditCtx('demo', `r-${i}`), slotRead(`s${i}`));
    // PostgreSQL: the first group learns the tip under the lock, the other nine are one statement each.
    expect(writes()).toBe(factory.name === 'postgres' ? 1 : 10);
    expect((await readAuditTrail(store, 'demo')).map((e) => e.requestId)).toEqual(
      Array.from({ length: 10 }, (_, i) => `r-${i}`),
    );
    expect(await verifyAuditTrail(store, 'demo')).toEqual({ ok: true, count: 10 });
  });

  it('chains on correctly when a write appends its own row in its transaction between groups', async () => {
    const { store } = testStore();
    const audit = createAuditTrail(store);
    for (let i = 0; i < 6; i++) {
      await audit.record(auditCtx('demo', `read-${i}`), slotRead(`s${i}`));
      await store.write((trx) =>
        appendAuditEvent(
          trx,
          auditCtx('demo', `write-${i}`),
          { ...slotRead(`a${i}`), action: 'create' },
          store.now(),
        ),
      );
    }
    const entries = await readAuditTrail(store, 'demo');
    expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(entries.map((e) => e.requestId)).toEqual(
      Array.from({ length: 6 }, (_, i) => [`read-${i}`, `write-${i}`]).flat(),
    );
    expect(await verifyAuditTrail(store, 'demo')).toEqual({ ok: true, count: 12 });
  });

  it('keeps one gap-free chain when two processes take turns, each finding its tip stale', async () => {
    const handle = testStore();
    const other = await handle.openAnother();
    const trails = [createAuditTrail(handle.store), createAuditTrail(other)];
    for (let i = 0; i < 40; i++) await trails[i % 2]?.record(auditCtx('demo', `r-${i}`), slotRead(`s${i}`));
    // Runs of one process too: its tip is current again within a run.
    for (let i = 40; i < 80; i++)
      await trails[Math.floor(i / 5) % 2]?.record(auditCtx('demo', `r-${i}`), slotRead(`s${i}`));
    const entries = await readAuditTrail(handle.store, 'demo', { limit: 1000 });
    expect(entries.map((e) => e.requestId)).toEqual(Array.from({ length: 80 }, (_, i) => `r-${i}`));
    expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 80 }, (_, i) => i + 1));
    expect(await verifyAuditTrail(other, 'demo')).toEqual({ ok: true, count: 80 });
  });

  it("resolves a record exactly when its row is stored, when another tenant's part of its group fails", async () => {
    const { store } = testStore();
    const audit = createAuditTrail(store);
    // Both tenants' tips known (PostgreSQL: their next groups are one statement each).
    for (const tenant of ['a', 'b']) await audit.record(auditCtx(tenant, `${tenant}-0`), slotRead('s0'));
    await failAuditInserts(store, 'b');
    // Submitted together: one group spanning both tenants.
    const outcomes = await Promise.allSettled([
      audit.record(auditCtx('a', 'a-1'), slotRead('s1')),
      audit.record(auditCtx('b', 'b-1'), slotRead('s1')),
    ]);
    await healAuditInserts(store);
    const stored = async (tenant: string) =>
      (await readAuditTrail(store, tenant)).map((e) => e.requestId).includes(`${tenant}-1`);
    // Told stored exactly when stored: PostgreSQL stores a's row (its own statement), SQLite's one transaction none.
    expect(outcomes.map((o) => o.status === 'fulfilled')).toEqual([await stored('a'), await stored('b')]);
    expect(outcomes[1]?.status).toBe('rejected');
    expect(outcomes[0]?.status).toBe(factory.name === 'postgres' ? 'fulfilled' : 'rejected');
    // Both chains go on intact.
    for (const tenant of ['a', 'b']) {
      await audit.record(auditCtx(tenant, `${tenant}-2`), slotRead('s2'));
      expect((await verifyAuditTrail(store, tenant)).ok).toBe(true);
    }
  });
});
