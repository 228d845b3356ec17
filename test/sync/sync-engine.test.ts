import type { Appointment, Patient } from '@medplum/fhirtypes';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { SimAppointment } from '../../src/sim/sim-types.js';
import { lastJournalSeq, readJournal, type JournalEntry } from '../../src/store/change-journal.js';
import { currentHashes, readResource } from '../../src/store/resource-store.js';
import { getSyncState } from '../../src/store/sync-state-store.js';
import { fhirIdsFor } from '../../src/store/upstream-ids.js';
import { expectValidFhir } from '../support/fhir-validators.js';
import { ManualClock, startSyncHarness, type SyncHarness } from '../support/sync-harness.js';
import { testStoreFactories, useTestStore } from '../support/test-stores.js';
import { TINY_FIRM, tinyFirm } from '../support/tiny-firm.js';

const newAppointment = {
  patientId: 2,
  providerId: 1,
  locationId: 1,
  appointmentTypeId: 1,
  start: '2026-11-24T14:00',
  durationMinutes: 15,
};

describe.each(testStoreFactories)('sync engine against the sim over HTTP ($name)', (factory) => {
  const db = useTestStore(factory);
  let harness: SyncHarness | undefined;
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });

  async function start(options: Partial<Parameters<typeof startSyncHarness>[0]> = {}): Promise<SyncHarness> {
    harness = await startSyncHarness({
      firms: [{ name: TINY_FIRM, data: tinyFirm() }],
      store: db().store,
      ...options,
    });
    return harness;
  }

  const appointmentId = async (upstreamId: number) =>
    (await fhirIdsFor(db().store, TINY_FIRM, 'Appointment', [String(upstreamId)])).get(
      String(upstreamId),
    ) as string;

  async function eventsSince(seq: number): Promise<JournalEntry[]> {
    return readJournal(db().store, TINY_FIRM, { afterSeq: seq, limit: 1000 });
  }

  it('loads reference data, windows and patients as valid FHIR without emitting events for the baseline', async () => {
    const h = await start();
    const reports = await h.engine.runOnce();
    expect(reports.map((r) => [r.stream, r.outcome])).toEqual([
      ['reference', 'ok'],
      ['window-hot', 'ok'],
      ['window-warm', 'ok'],
      ['patients', 'ok'],
    ]);
    for (const type of ['Practitioner', 'Location', 'Schedule', 'Appointment', 'Patient', 'Slot'] as const) {
      const ids = [...(await currentHashes(db().store, TINY_FIRM, type)).keys()];
      expect(ids.length, type).toBeGreaterThan(0);
      for (const id of ids) expectValidFhir((await readResource(db().store, TINY_FIRM, type, id))?.resource);
    }
    const events = await eventsSince(0);
    expect(events.every((e) => e.eventType === 'sync.health-changed')).toBe(true);
  });

  it('writes zero rows and emits nothing when a second pass sees unchanged data', async () => {
    const h = await start();
    await h.engine.runOnce();
    const seq = await lastJournalSeq(db().store, TINY_FIRM);
    const again = await h.engine.runOnce();
    expect(again.map((r) => r.result?.written)).toEqual([0, 0, 0, 0]);
    expect(await eventsSince(seq)).toEqual([]);
  });

  it('turns a front-desk booking into a new Appointment and an appointment.booked event', async () => {
    const h = await start();
    await h.engine.runOnce();
    const seq = await lastJournalSeq(db().store, TINY_FIRM);
    const created = await h.frontDesk<SimAppointment>(TINY_FIRM, 'POST', '/appointments', newAppointment);
    expect(created.status).toBe(201);

    await h.engine.runStream(TINY_FIRM, 'window-hot');
    const id = await appointmentId(created.body.id);
    const stored = await readResource(db().store, TINY_FIRM, 'Appointment', id);
    expect(stored?.resource.start).toBe('2026-11-24T14:00:00-05:00');
    expect(stored?.resource.status).toBe('booked');
    expect((await eventsSince(seq)).map((e) => [e.eventType, e.resourceId, e.versionId])).toEqual([
      ['appointment.booked', id, 1],
    ]);
  });

  it('turns a front-desk reschedule into a new version and appointment.changed', async () => {
    const h = await start();
    await h.engine.runOnce();
    const seq = await lastJournalSeq(db().store, TINY_FIRM);
    const moved = await h.frontDesk(TINY_FIRM, 'PUT', '/appointments/1', {
      ...newAppointment,
      patientId: 1,
      start: '2026-11-24T15:00',
    });
    expect(moved.status).toBe(200);

    await h.engine.runStream(TINY_FIRM, 'window-hot');
    const id = await appointmentId(1);
    const stored = await readResource(db().store, TINY_FIRM, 'Appointment', id);
    expect([stored?.versionId, stored?.resource.start]).toEqual([2, '2026-11-24T15:00:00-05:00']);
    expect((await eventsSince(seq)).map((e) => [e.eventType, e.resourceId, e.versionId])).toEqual([
      ['appointment.changed', id, 2],
    ]);
  });

  it('turns a front-desk cancellation into status cancelled and appointment.cancelled', async () => {
    const h = await start();
    await h.engine.runOnce();
    const seq = await lastJournalSeq(db().store, TINY_FIRM);
    expect(
      (await h.frontDesk(TINY_FIRM, 'POST', '/appointments/1/cancel', { reason: 'Feeling better' })).status,
    ).toBe(200);

    await h.engine.runStream(TINY_FIRM, 'window-hot');
    const id = await appointmentId(1);
    const stored = await readResource(db().store, TINY_FIRM, 'Appointment', id);
    expect(stored?.resource.status).toBe('cancelled');
    expect(stored?.resource.cancelationReason?.text).toBe('Feeling better');
    expect((await eventsSince(seq)).map((e) => e.eventType)).toEqual(['appointment.cancelled']);
  });

  it('turns a hard delete, visible only by absence, into a FHIR delete and appointment.deleted', async () => {
    const h = await start();
    await h.engine.runOnce();
    const seq = await lastJournalSeq(db().store, TINY_FIRM);
    expect((await h.frontDesk(TINY_FIRM, 'DELETE', '/appointments/1')).status).toBe(204);

    await h.engine.runStream(TINY_FIRM, 'window-hot');
    const id = await appointmentId(1);
    const stored = await readResource(db().store, TINY_FIRM, 'Appointment', id);
    expect(stored?.deleted).toBe(true);
    expect((await eventsSince(seq)).map((e) => [e.eventType, e.resourceId])).toEqual([
      ['appointment.deleted', id],
    ]);
  });

  it('still syncs blocks when the only appointment of a practitioner with a block is deleted', async () => {
    const h = await start();
    await h.engine.runOnce();
    expect((await h.frontDesk(TINY_FIRM, 'DELETE', '/appointments/2')).status).toBe(204);
    const reports = await h.engine.runOnce();
    expect(reports.map((r) => r.outcome)).toEqual(['ok', 'ok', 'ok', 'ok']);
  });

  it('keeps an appointment the front desk moved out of the hot window instead of deleting it', async () => {
    const h = await start();
    await h.engine.runOnce();
    const seq = await lastJournalSeq(db().store, TINY_FIRM);
    const moved = { ...newAppointment, patientId: 1, start: '2027-01-11T09:00' };
    expect((await h.frontDesk(TINY_FIRM, 'PUT', '/appointments/1', moved)).status).toBe(200);

    await h.engine.runStream(TINY_FIRM, 'window-hot');
    const stored = await readResource(db().store, TINY_FIRM, 'Appointment', await appointmentId(1));
    expect([stored?.deleted, stored?.resource.start]).toEqual([false, '2027-01-11T09:00:00-05:00']);
    expect((await eventsSince(seq)).map((e) => e.eventType)).toEqual(['appointment.changed']);
    await h.engine.runStream(TINY_FIRM, 'window-warm');
    expect(await eventsSince(seq + 1)).toEqual([]);
  });

  it('picks up a changed patient incrementally and advances the cursor', async () => {
    const h = await start();
    await h.engine.runOnce();
    const before = await getSyncState(db().store, TINY_FIRM, 'patients');
    h.clock.advanceSeconds(60);
    const update = {
      firstName: 'John',
      lastName: 'Smith',
      dob: '1985-06-30',
      gender: 'male',
      phone: '518-555-9999',
      email: 'john@example.org',
      address: null,
    };
    expect((await h.frontDesk(TINY_FIRM, 'PUT', '/patients/2', update)).status).toBe(200);
    const seq = await lastJournalSeq(db().store, TINY_FIRM);

    const report = await h.engine.runStream(TINY_FIRM, 'patients');
    expect(report.result?.written).toBe(1);
    const id = (await fhirIdsFor(db().store, TINY_FIRM, 'Patient', ['2'])).get('2') as string;
    const patient = (await readResource(db().store, TINY_FIRM, 'Patient', id))?.resource as Patient;
    expect(patient.telecom?.find((t) => t.system === 'email')?.value).toBe('john@example.org');
    expect((await eventsSince(seq)).map((e) => e.eventType)).toEqual(['patient.changed']);
    const after = await getSyncState(db().store, TINY_FIRM, 'patients');
    expect(after?.cursor).not.toBe(before?.cursor);
    expect(after?.cursor).toBe('2026-11-20T10:01:00');
  });

  it('refreshes an expired token in the middle of the work and finishes the pass', async () => {
    // The connector keeps its own (real) clock, so it cannot see the expiry coming; the sim answers 401.
    const h = await start({ tokenTtlSeconds: 300, connectorNow: () => Date.now() });
    await h.engine.runOnce();
    h.clock.advanceSeconds(301);
    const created = await h.frontDesk<SimAppointment>(TINY_FIRM, 'POST', '/appointments', newAppointment);
    const report = await h.engine.runStream(TINY_FIRM, 'window-hot');
    expect(report.outcome).toBe('ok');
    expect(
      (await readResource(db().store, TINY_FIRM, 'Appointment', await appointmentId(created.body.id)))
        ?.versionId,
    ).toBe(1);
  });

  it('waits out a 429 with Retry-After and completes the pass', async () => {
    let waitedMs = 0;
    const h = await start({
      client: {
        sleep: async (ms) => {
          waitedMs += ms;
          h.clock.advanceSeconds(ms / 1000);
        },
      },
    });
    await h.engine.runOnce();
    const created = await h.frontDesk<SimAppointment>(TINY_FIRM, 'POST', '/appointments', newAppointment);
    h.sim.faults.set({ rateLimitPerMinute: 2 });
    const report = await h.engine.runStream(TINY_FIRM, 'window-hot');
    expect(report.outcome).toBe('ok');
    expect(waitedMs).toBeGreaterThan(0);
    expect(
      (await readResource(db().store, TINY_FIRM, 'Appointment', await appointmentId(created.body.id)))
        ?.versionId,
    ).toBe(1);
  });

  it('reports failing when the records system is down, and fresh again once it is back, with events both ways', async () => {
    const metrics = new Registry();
    const h = await start({ metrics });
    await h.engine.runOnce();
    const seq = await lastJournalSeq(db().store, TINY_FIRM);
    h.sim.faults.set({ down: true });
    for (let i = 0; i < 3; i++)
      expect((await h.engine.runStream(TINY_FIRM, 'window-hot')).outcome).toBe('failed');
    const failing = await getSyncState(db().store, TINY_FIRM, 'window-hot');
    expect([failing?.health, failing?.consecutiveFailures]).toEqual(['failing', 3]);
    expect(failing?.lastError).toMatch(/503|circuit/);
    expect(await metrics.getSingleMetricAsString('switchboard_sync_health')).toContain(
      'switchboard_sync_health{tenant="tiny",stream="window-hot"} 2',
    );

    h.sim.faults.clear();
    await new Promise((resolve) => setTimeout(resolve, 60)); // let the (50 ms) circuit half-open
    expect((await h.engine.runStream(TINY_FIRM, 'window-hot')).outcome).toBe('ok');
    const healthEvents = (await eventsSince(seq)).filter((e) => e.eventType === 'sync.health-changed');
    expect(healthEvents.map((e) => (e.payload as { health: string }).health)).toEqual(['failing', 'fresh']);
    expect((await getSyncState(db().store, TINY_FIRM, 'window-hot'))?.health).toBe('fresh');
  });

  it('marks a stream lagging when no pass has succeeded for several intervals', async () => {
    const h = await start();
    await h.engine.runOnce();
    h.clock.advanceSeconds(60); // hot interval 2 s × 3 intervals is long past
    const states = await h.engine.health(TINY_FIRM);
    expect(states.find((s) => s.stream === 'window-hot')?.health).toBe('lagging');
    expect(states.find((s) => s.stream === 'reference')?.health).toBe('fresh');
  });

  it('maps appointments on both sides of a DST change to the right instants', async () => {
    const h = await start({ clock: new ManualClock('2027-03-10T15:00:00Z') });
    await h.engine.runStream(TINY_FIRM, 'reference');
    const before = await h.frontDesk<SimAppointment>(TINY_FIRM, 'POST', '/appointments', {
      ...newAppointment,
      start: '2027-03-12T09:00',
    });
    const after = await h.frontDesk<SimAppointment>(TINY_FIRM, 'POST', '/appointments', {
      ...newAppointment,
      start: '2027-03-15T09:00',
    });
    await h.engine.runStream(TINY_FIRM, 'window-hot');
    const read = async (id: number) =>
      (await readResource(db().store, TINY_FIRM, 'Appointment', await appointmentId(id)))
        ?.resource as Appointment;
    expect((await read(before.body.id)).start).toBe('2027-03-12T09:00:00-05:00');
    expect((await read(after.body.id)).start).toBe('2027-03-15T09:00:00-04:00');
  });

  it('keeps two tenants on two firms apart', async () => {
    const other = tinyFirm();
    other.patients = other.patients.map((p) => ({ ...p, lastName: `${p.lastName}-Lakeside` }));
    const h = await start({
      firms: [
        { name: TINY_FIRM, data: tinyFirm() },
        { name: 'lakeside', data: other },
      ],
    });
    await h.engine.runOnce();
    const ours = [...(await currentHashes(db().store, TINY_FIRM, 'Patient')).keys()];
    const theirs = [...(await currentHashes(db().store, 'lakeside', 'Patient')).keys()];
    expect(ours).toHaveLength(5);
    expect(theirs).toHaveLength(5);
    expect(ours.filter((id) => theirs.includes(id))).toEqual([]);
    for (const id of theirs) {
      expect(await readResource(db().store, TINY_FIRM, 'Patient', id)).toBeUndefined();
      const patient = (await readResource(db().store, 'lakeside', 'Patient', id))?.resource as Patient;
      expect(patient.name?.[0]?.family).toMatch(/-Lakeside$/);
    }
    // A booking at one firm shows up for that tenant only.
    await h.frontDesk(TINY_FIRM, 'POST', '/appointments', newAppointment);
    const seqOther = await lastJournalSeq(db().store, 'lakeside');
    await h.engine.runOnce();
    expect(await lastJournalSeq(db().store, 'lakeside')).toBe(seqOther);
  });
});
