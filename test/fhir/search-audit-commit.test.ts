import type { Bundle } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { createAuditTrail, readAuditTrail, verifyAuditTrail } from '../../src/audit/audit-trail.js';
import { failAuditInserts, healAuditInserts } from '../support/audit-faults.js';
import { testStoreFactories } from '../support/test-stores.js';
import { expectOutcome, fhirGet, useSyncedFacade } from './support/fhir-http.js';

/**
 * Issue 16: searches are audited by group commit, never answered before their audit row has committed — so a
 * crash between the answer and the commit cannot happen: the answer is sent only after the commit returned.
 */
describe.each(testStoreFactories)('search audit over HTTP ($name)', (factory) => {
  const facade = useSyncedFacade(factory, {
    audit: createAuditTrail(() => facade().store),
  });
  const rowsAfter = async (seq: number) =>
    (await readAuditTrail(facade().store, facade().tenant, { afterSeq: seq, limit: 1000 })).map((e) => e);
  const lastSeq = async () => (await rowsAfter(0)).at(-1)?.seq ?? 0;

  it('N concurrent searches leave N chained audit rows, each committed before its answer arrived', async () => {
    const h = facade();
    const before = await lastSeq();
    const n = 40;
    const answers = await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const requestId = `concurrent-${i}`;
        const answer = await fhirGet<Bundle>(h, i % 2 === 0 ? 'Patient?name=lee' : 'Practitioner', {
          'x-request-id': requestId,
        });
        // Read at the moment the answer arrived, through the store: the row is already there.
        const committed = (await rowsAfter(before)).some((row) => row.requestId === requestId);
        return { status: answer.status, committed };
      }),
    );
    expect(answers).toEqual(answers.map(() => ({ status: 200, committed: true })));
    const rows = await rowsAfter(before);
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: n }, (_, i) => before + i + 1));
    expect(new Set(rows.map((r) => r.requestId)).size).toBe(n);
    expect(rows.every((r) => r.action === 'search' && r.status === 200)).toBe(true);
    expect(await verifyAuditTrail(h.store, h.tenant)).toEqual({ ok: true, count: before + n });
  });

  it('answers 500, never 200, when the audit commit fails, and keeps no row of those requests', async () => {
    const h = facade();
    const before = await lastSeq();
    await failAuditInserts(h.store);
    try {
      const answers = await Promise.all(Array.from({ length: 8 }, () => fhirGet(h, 'Patient?name=lee')));
      for (const answer of answers) expectOutcome(answer, 500);
      expect(JSON.stringify(answers.map((a) => a.body))).not.toContain('"resourceType":"Patient"');
    } finally {
      await healAuditInserts(h.store);
    }
    expect(await rowsAfter(before)).toEqual([]);
    expect((await fhirGet(h, 'Patient?name=lee')).status).toBe(200);
    expect(await verifyAuditTrail(h.store, h.tenant)).toEqual({ ok: true, count: before + 1 });
  });
});
