/**
 * Retention (issue 15 item 4), on both dialects: sixty days of bookings, deliveries, versions, sagas, idempotency
 * records and audit rows written on a store clock, then one pruning round at day 60 with 30-day windows and tiny
 * batches. Proven as invariants over every row: nothing past its window survives unless something kept refers to
 * it, every row inside its window is untouched, `$events` replays the window exactly as before, the audit trail is
 * untouched and still verifies, and a second round deletes nothing. An instance not holding the tenant's lease
 * prunes nothing.
 */
import { describe, expect, it } from 'vitest';
import type { RetentionSettings } from '../../src/config.js';
import { createAuditTrail, verifyAuditTrail } from '../../src/audit/audit-trail.js';
import { exportAuditTrail } from '../../src/audit/audit-export.js';
import { alwaysHeldLeases, type WorkLeases } from '../../src/leases/work-leases.js';
import { createLogger } from '../../src/logger.js';
import { createRetentionWorker } from '../../src/retention/retention-worker.js';
import type { Store } from '../../src/store/database.js';
import { activateSubscription } from '../../src/webhooks/subscriptions/subscription-lifecycle.js';
import { subscriptionEvents } from '../../src/webhooks/subscriptions/subscription-status.js';
import { createSubscription } from '../../src/webhooks/subscriptions/subscription-store.js';
import { insertIdempotencyRecord, insertSaga } from '../support/retention-activity.js';
import { testStoreFactories, useTestStore } from '../support/test-stores.js';
import {
  appointment,
  commitAppointments,
  loopbackPolicy,
  seedPractice,
  subscriptionResource,
  TENANT,
} from '../support/webhook-fixtures.js';

const DAY = 24 * 3600_000;
const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const DAYS = 60;
const SETTINGS: RetentionSettings = {
  enabled: true,
  journalDays: 30,
  deliveredOutboxDays: 30,
  historyVersions: 3,
  historyDays: 30,
  finishedSagaDays: 30,
  idempotencyHours: 24,
  intervalSeconds: 3600,
  // Tiny, so every table takes many batches.
  batchSize: 7,
};
const CUTOFF = new Date(T0 + (DAYS - 30) * DAY).toISOString();
const SAGA_STATES = ['committed', 'released', 'needs-attention', 'held'] as const;

type Row = Record<string, unknown>;

async function rows(store: Store, table: 'change_journal' | 'outbox' | 'resource_history'): Promise<Row[]> {
  return (await store.db.selectFrom(table).selectAll().where('tenant_id', '=', TENANT).execute()) as Row[];
}

const key = (row: Row, ...columns: string[]) => columns.map((c) => String(row[c])).join('|');

/** Sixty days of activity, one day at a time on the store's clock. Returns the subscription's id. */
async function sixtyDays(store: Store, clock: { now: number }): Promise<string> {
  await seedPractice(store);
  const { subscription } = await createSubscription(
    store,
    TENANT,
    subscriptionResource({ endpoint: 'http://127.0.0.1:9/hook', topic: 'appointment-booked' }),
    { policy: loopbackPolicy() },
  );
  await activateSubscription(store, TENANT, subscription.id);
  const audit = createAuditTrail(store);
  for (let day = 0; day < DAYS; day++) {
    clock.now = T0 + day * DAY;
    // A new booking every day (an event and a delivery), and one appointment changed every day (a version).
    await commitAppointments(store, [
      appointment({ id: `a${day}`, startMinutes: day * 60 }),
      appointment({ id: 'moving', comment: `version of day ${day}` }),
    ]);
    await audit.record(
      { tenant: { id: TENANT }, client: { id: 'agent' }, requestId: `req-${day}` },
      { action: 'read', resourceType: 'Appointment', resourceIds: [`a${day}`], status: 200 },
    );
    const at = new Date(clock.now).toISOString();
    await store.write(async (trx) => {
      for (const state of SAGA_STATES) {
        await insertSaga(trx, {
          tenantId: TENANT,
          id: `saga-${state}-${day}`,
          state,
          marker: `m-${state}-${day}`,
          at,
        });
      }
      await insertIdempotencyRecord(trx, {
        tenantId: TENANT,
        key: `key-${day}`,
        at,
        expiresAt: new Date(clock.now + 2 * DAY).toISOString(),
      });
      // Delivered when enqueued, except the booking of day 3, whose delivery is still failing: its event stays.
      await trx
        .updateTable('outbox')
        .set({ delivered_at: at })
        .where('tenant_id', '=', TENANT)
        .where('delivered_at', 'is', null)
        .where('focus', '!=', 'Appointment/a3')
        .execute();
    });
  }
  clock.now = T0 + DAYS * DAY;
  return subscription.id;
}

function replay(store: Store, id: string, since: number) {
  return subscriptionEvents(store, TENANT, id, {
    baseUrl: 'https://switchboard.test/fhir/clinic',
    eventsSinceNumber: since,
    limit: 100,
    now: new Date(T0 + DAYS * DAY),
  });
}

describe.each(testStoreFactories)('retention ($name)', (factory) => {
  const clock = { now: T0 };
  const db = useTestStore(factory, { clock: () => new Date(clock.now) });

  it('prunes what is past its window, keeps what is inside it or still referred to, and never touches the audit trail', async () => {
    const { store } = db();
    const id = await sixtyDays(store, clock);
    const before = {
      journal: await rows(store, 'change_journal'),
      outbox: await rows(store, 'outbox'),
      history: await rows(store, 'resource_history'),
    };
    const keptOutbox = before.outbox.filter(
      (r) => r.delivered_at === null || String(r.delivered_at) >= CUTOFF,
    );
    // The window's first event number (the older failing delivery aside).
    const firstKeptNumber = Math.min(
      ...keptOutbox.filter((r) => r.delivered_at !== null).map((r) => Number(r.event_number)),
    );
    const replayBefore = await replay(store, id, firstKeptNumber);
    const auditBefore: string[] = [];
    await exportAuditTrail(store, TENANT, { since: '2000-01-01T00:00:00.000Z' }, (line) => {
      auditBefore.push(line);
    });
    expect(auditBefore).toHaveLength(DAYS);

    const worker = createRetentionWorker({
      store,
      tenantIds: [TENANT],
      settings: SETTINGS,
      logger: createLogger('silent'),
      leases: alwaysHeldLeases([TENANT]),
    });
    const report = await worker.runOnce();

    // Outbox: exactly the delivered rows older than the window went.
    const outbox = await rows(store, 'outbox');
    expect(outbox.map((r) => key(r, 'subscription_id', 'seq')).sort()).toEqual(
      keptOutbox.map((r) => key(r, 'subscription_id', 'seq')).sort(),
    );
    expect(outbox.some((r) => r.focus === 'Appointment/a3' && r.delivered_at === null)).toBe(true);

    // Journal: an event survives iff it is inside the window or a kept delivery refers to it.
    const outboxSeqs = new Set(outbox.map((r) => Number(r.seq)));
    const keepEvent = (r: Row) => String(r.occurred_at) >= CUTOFF || outboxSeqs.has(Number(r.seq));
    const journal = await rows(store, 'change_journal');
    expect(journal.map((r) => key(r, 'seq')).sort()).toEqual(
      before.journal
        .filter(keepEvent)
        .map((r) => key(r, 'seq'))
        .sort(),
    );
    expect(journal.length).toBeLessThan(before.journal.length);

    // History: a version survives iff it is recent, among its resource's last 3, or named by a kept event.
    const current = new Map<string, number>();
    for (const r of before.history) {
      const k = key(r, 'resource_type', 'id');
      current.set(k, Math.max(current.get(k) ?? 0, Number(r.version_id)));
    }
    const named = new Set(journal.map((r) => key(r, 'resource_type', 'resource_id', 'version_id')));
    const keepVersion = (r: Row) =>
      String(r.last_updated) >= CUTOFF ||
      Number(r.version_id) > (current.get(key(r, 'resource_type', 'id')) ?? 0) - SETTINGS.historyVersions ||
      named.has(key(r, 'resource_type', 'id', 'version_id'));
    const history = await rows(store, 'resource_history');
    const historyKeys = (list: Row[]) => list.map((r) => key(r, 'resource_type', 'id', 'version_id')).sort();
    expect(historyKeys(history)).toEqual(historyKeys(before.history.filter(keepVersion)));
    expect(history.filter((r) => r.id === 'moving').length).toBeLessThan(DAYS);
    // Every resource keeps its current version.
    for (const [k, version] of current) {
      expect(
        history.some((r) => key(r, 'resource_type', 'id') === k && Number(r.version_id) === version),
      ).toBe(true);
    }

    // Sagas: finished ones older than the window went; needs-attention and unfinished ones stayed.
    const sagas = await store.db.selectFrom('booking_sagas').select(['state', 'updated_at']).execute();
    for (const saga of sagas) {
      if (saga.state === 'committed' || saga.state === 'released')
        expect(saga.updated_at >= CUTOFF).toBe(true);
    }
    expect(sagas.filter((s) => s.state === 'needs-attention')).toHaveLength(DAYS);
    expect(sagas.filter((s) => s.state === 'held')).toHaveLength(DAYS);
    expect(sagas.filter((s) => s.state === 'committed')).toHaveLength(30);

    // Idempotency records: only those of the last 24 h are left (each would expire after two days).
    const keys = await store.db.selectFrom('idempotency_records').select('idempotency_key').execute();
    expect(keys.map((k) => k.idempotency_key)).toEqual([`key-${DAYS - 1}`]);

    // $events replays the window exactly as before pruning.
    const replayAfter = await replay(store, id, firstKeptNumber);
    // (The first entry is the status, with a fresh urn:uuid each time.)
    expect(replayAfter?.entry?.slice(1)).toEqual(replayBefore?.entry?.slice(1));
    expect(replayAfter?.entry?.[0]?.resource).toEqual(replayBefore?.entry?.[0]?.resource);
    expect(replayAfter?.entry?.length).toBe(1 + 30);

    // The audit trail is untouched and its hash chain still verifies.
    const auditAfter: string[] = [];
    await exportAuditTrail(store, TENANT, { since: '2000-01-01T00:00:00.000Z' }, (line) => {
      auditAfter.push(line);
    });
    expect(auditAfter).toEqual(auditBefore);
    expect(await verifyAuditTrail(store, TENANT)).toEqual({ ok: true, count: DAYS });

    expect(report.outbox).toBe(before.outbox.length - keptOutbox.length);
    expect(report.change_journal).toBe(before.journal.length - journal.length);
    // Nothing left to do: a second round deletes nothing.
    expect(await worker.runOnce()).toEqual({
      outbox: 0,
      change_journal: 0,
      resource_history: 0,
      booking_sagas: 0,
      idempotency_records: 0,
    });
  });

  it('prunes nothing on an instance that does not hold the tenant lease', async () => {
    const { store } = db();
    await sixtyDays(store, clock);
    const counts = async () => ({
      journal: (await rows(store, 'change_journal')).length,
      outbox: (await rows(store, 'outbox')).length,
      history: (await rows(store, 'resource_history')).length,
    });
    const before = await counts();
    const elsewhere: WorkLeases = { ...alwaysHeldLeases([TENANT]), holds: () => false };
    const worker = createRetentionWorker({
      store,
      tenantIds: [TENANT],
      settings: SETTINGS,
      logger: createLogger('silent'),
      leases: elsewhere,
    });
    expect(Object.values(await worker.runOnce()).every((n) => n === 0)).toBe(true);
    expect(await counts()).toEqual(before);
  });

  it('exports the audit trail from a date as NDJSON lines with their hash chain', async () => {
    const { store } = db();
    await sixtyDays(store, clock);
    const lines: string[] = [];
    const since = new Date(T0 + 50 * DAY).toISOString();
    const until = new Date(T0 + 55 * DAY).toISOString();
    expect(await exportAuditTrail(store, TENANT, { since, until }, (line) => void lines.push(line))).toBe(5);
    const events = lines.map(
      (line) => JSON.parse(line) as { seq: number; recordedAt: string; prevHash: string; hash: string },
    );
    expect(events.map((e) => e.seq)).toEqual([51, 52, 53, 54, 55]);
    expect(events.every((e) => e.recordedAt >= since && e.recordedAt < until)).toBe(true);
    for (let i = 1; i < events.length; i++) expect(events[i]?.prevHash).toBe(events[i - 1]?.hash);
  });
});
