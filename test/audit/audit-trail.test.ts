import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import type { AuditSink, FhirRequestContext } from '../../fhir/access.js';
import {
  createAuditTrail,
  parameterNames,
  readAuditTrail,
  verifyAuditTrail,
  type AuditContext,
} from '../../src/audit/audit-trail.js';
import type { Store } from '../../src/store/database.js';
import { testStoreFactories, useTestStore } from '../support/test-stores.js';

const CANARY = 'Zyxwqcanary';

const ctx = (tenantId: string, clientId: string | undefined, requestId = 'req-1'): AuditContext => ({
  tenant: { id: tenantId },
  client: clientId === undefined ? undefined : { id: clientId },
  requestId,
});

/** Every value in the audit tables, as one string, to search for PHI. */
async function dumpAuditTables(store: Store): Promise<string> {
  const events = await sql`select * from audit_events`.execute(store.db);
  const counters = await sql`select * from audit_counters`.execute(store.db);
  return JSON.stringify([events.rows, counters.rows]);
}

describe.each(testStoreFactories)('audit trail ($name)', (factory) => {
  const testStore = useTestStore(factory, { clock: () => new Date('2026-11-24T19:00:00.000Z') });

  it('records who did what to which resources, numbered per tenant', async () => {
    const { store } = testStore();
    const audit = createAuditTrail(store);
    await audit.record(ctx('demo', 'agent', 'r-1'), {
      action: 'search',
      resourceType: 'Appointment',
      resourceIds: ['a1', 'a2', 'Patient/p1'],
      status: 200,
      parameters: ['date', 'patient', '_include'],
    });
    await audit.record(ctx('demo', 'agent', 'r-2'), {
      action: 'create',
      resourceType: 'Appointment',
      resourceIds: ['a3'],
      status: 201,
    });
    await audit.record(ctx('other', 'dashboard', 'r-3'), {
      action: 'read',
      resourceType: 'Patient',
      resourceIds: ['p9'],
      status: 200,
    });

    expect(await readAuditTrail(store, 'demo')).toEqual([
      {
        tenantId: 'demo',
        seq: 1,
        recordedAt: '2026-11-24T19:00:00.000Z',
        clientId: 'agent',
        requestId: 'r-1',
        action: 'search',
        resourceType: 'Appointment',
        resourceIds: ['a1', 'a2', 'Patient/p1'],
        status: 200,
        parameters: ['date', 'patient', '_include'],
      },
      {
        tenantId: 'demo',
        seq: 2,
        recordedAt: '2026-11-24T19:00:00.000Z',
        clientId: 'agent',
        requestId: 'r-2',
        action: 'create',
        resourceType: 'Appointment',
        resourceIds: ['a3'],
        status: 201,
        parameters: [],
      },
    ]);
    expect((await readAuditTrail(store, 'other')).map((e) => [e.seq, e.clientId])).toEqual([
      [1, 'dashboard'],
    ]);
    expect((await readAuditTrail(store, 'demo', { afterSeq: 1 })).map((e) => e.seq)).toEqual([2]);
    expect((await readAuditTrail(store, 'demo', { limit: 1 })).map((e) => e.seq)).toEqual([1]);
  });

  it('never stores a value, even when a caller passes one where a name or id belongs', async () => {
    const { store } = testStore();
    await createAuditTrail(store).record(ctx('demo', 'agent', `req ${CANARY}`), {
      action: `search ${CANARY}`,
      resourceType: `Patient ${CANARY}`,
      resourceIds: ['p1', `${CANARY} Smith`, `1970-01-01 ${CANARY}`],
      status: 200,
      parameters: [`family=${CANARY}`, 'birthdate=1970-01-01', `${CANARY} Smith`, 'name:exact'],
    });
    expect(await dumpAuditTables(store)).not.toContain(CANARY);
    expect(await dumpAuditTables(store)).not.toContain('1970-01-01');
    const [entry] = await readAuditTrail(store, 'demo');
    expect(entry).toMatchObject({
      requestId: 'invalid',
      action: 'unknown',
      resourceType: null,
      resourceIds: ['p1'],
      parameters: ['family', 'birthdate', 'name:exact'],
    });
  });

  it('numbers concurrent records of one tenant without gaps or duplicates', async () => {
    const handle = testStore();
    const other = await handle.openAnother();
    const stores = [handle.store, other];
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        createAuditTrail(stores[i % 2] as Store).record(ctx('demo', 'agent', `r-${i}`), {
          action: 'read',
          resourceType: 'Slot',
          resourceIds: [`s${i}`],
          status: 200,
        }),
      ),
    );
    const entries = await readAuditTrail(handle.store, 'demo');
    expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(new Set(entries.map((e) => e.requestId)).size).toBe(20);
    expect(await verifyAuditTrail(handle.store, 'demo')).toEqual({ ok: true, count: 20 });
  });

  it('detects an edited, a deleted and a truncated row through the hash chain', async () => {
    const { store } = testStore();
    const audit = createAuditTrail(store);
    for (const id of ['p1', 'p2', 'p3', 'p4']) {
      await audit.record(ctx('demo', 'agent'), {
        action: 'read',
        resourceType: 'Patient',
        resourceIds: [id],
        status: 200,
      });
    }
    expect(await verifyAuditTrail(store, 'demo')).toEqual({ ok: true, count: 4 });
    expect(await verifyAuditTrail(store, 'nobody')).toEqual({ ok: true, count: 0 });

    await sql`delete from audit_events where seq = 4`.execute(store.db);
    expect(await verifyAuditTrail(store, 'demo')).toEqual({ ok: false, seq: 4, reason: 'truncated' });

    await sql`update audit_events set resource_ids = '["p9"]' where seq = 2`.execute(store.db);
    expect(await verifyAuditTrail(store, 'demo')).toEqual({ ok: false, seq: 2, reason: 'hash-mismatch' });

    await sql`delete from audit_events where seq = 2`.execute(store.db);
    expect(await verifyAuditTrail(store, 'demo')).toEqual({ ok: false, seq: 2, reason: 'gap' });
  });

  it('writes through a store handed over later, as the composition root opens it on start', async () => {
    const { store } = testStore();
    const app: { store?: Store } = {};
    const audit = createAuditTrail(() => {
      if (!app.store) throw new Error('not started');
      return app.store;
    });
    app.store = store;
    await audit.record(ctx('demo', undefined), {
      action: 'read',
      resourceType: 'Slot',
      resourceIds: [],
      status: 200,
    });
    expect((await readAuditTrail(store, 'demo'))[0]?.clientId).toBeNull();
  });
});

describe('audit trail as the facade sees it', () => {
  it('is an AuditSink of fhir/access.ts as it is', () => {
    const sink: AuditSink = createAuditTrail(() => {
      throw new Error('unused');
    });
    const fhirCtx = {} as FhirRequestContext;
    const asContext: AuditContext = fhirCtx;
    expect(typeof sink.record).toBe('function');
    expect(asContext).toBe(fhirCtx);
  });

  it('takes parameter names, never values, from a query', () => {
    expect(parameterNames({ name: CANARY, birthdate: '1970-01-01', _count: '10' })).toEqual([
      '_count',
      'birthdate',
      'name',
    ]);
    expect(parameterNames(new URLSearchParams(`name=${CANARY}&name=x&date=ge2026`))).toEqual([
      'date',
      'name',
    ]);
  });
});
