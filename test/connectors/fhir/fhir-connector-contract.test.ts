/**
 * The FHIR connector against the FHIR records-system simulator over real HTTP (issue 12, "Tests"): paging by
 * `next` links, Slot windows, token expiry, 429 with and without Retry-After, deletes by absence, marker search,
 * and the two field quirks as the connector sees them.
 */
import type { Appointment, Slot } from '@medplum/fhirtypes';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AppointmentWrite } from '../../../src/connectors/connector.js';
import { UpstreamError } from '../../../src/connectors/upstream-error.js';
import { ManualClock, startFhirSimHarness, testResolver, type FhirSimHarness } from './fhir-sim-harness.js';

// Monday 2026-11-23 in America/New_York: Johnson (1) works 08:00–12:00 at location 1 and has a 09:00 visit;
// Martínez (2) works 09:00–17:00 at location 2 with a staff meeting 12:00–14:00 and a 10:00 visit.
const MONDAY = { from: new Date('2026-11-23T05:00:00Z'), to: new Date('2026-11-24T05:00:00Z') };

const write = (over: Partial<AppointmentWrite> = {}): AppointmentWrite => ({
  patientUpstreamId: '1',
  practitionerUpstreamId: '1',
  locationUpstreamId: '1',
  appointmentTypeCode: 'FU',
  start: new Date('2026-11-23T15:00:00Z'), // 10:00 local
  minutes: 15,
  marker: 'switchboard:0b4cf6a8-7f4e-4d0e-9b53-1f2a3b4c5d6e',
  ...over,
});

let h: FhirSimHarness;
beforeEach(async () => {
  h = await startFhirSimHarness();
});
afterEach(async () => {
  await h.stop();
});

describe('FHIR connector against the FHIR simulator', () => {
  it('maps reference data with every upstream id replaced and references rewritten', async () => {
    const data = await h.connector().referenceData();
    const resolve = testResolver();
    const schedules = data.schedules.map((s) => s.toFhir(resolve));
    expect(data.practitioners.map((p) => p.upstreamId).sort()).toEqual(['1', '2']);
    expect(schedules.map((s) => s.id)).toEqual(data.schedules.map((s) => resolve('Schedule', s.upstreamId)));
    const johnson = schedules.find((s) => s.id === resolve('Schedule', '1-1'));
    expect(johnson?.actor.map((a) => a.reference)).toEqual([
      `Practitioner/${resolve('Practitioner', '1')}`,
      `Location/${resolve('Location', '1')}`,
    ]);
    // Types come from configuration, in the tenant's code system, with their durations.
    expect(johnson?.serviceType?.map((t) => t.coding?.[0]?.code)).toEqual(['FU', 'NP']);
    expect(johnson?.serviceType?.[0]?.coding?.[0]?.system).toBe('urn:switchboard:tiny:appointment-type');
    const location = data.locations[0]?.toFhir(resolve);
    expect(location?.id).toMatch(/^F\d+$/);
    expect(location?.extension?.[0]?.valueCode).toBe('America/New_York');
  });

  it('follows next links until every page of a search is read', async () => {
    const connector = h.connector({ pageSize: 1 });
    const before = connector.upstreamCalls;
    const records = await connector.appointmentsInWindow(MONDAY);
    expect(records.map((r) => r.upstreamId).sort()).toEqual(['1', '2']);
    // One token, the metadata is not needed here, and one call per page (two pages of one, then the end).
    expect(connector.upstreamCalls - before).toBeGreaterThanOrEqual(3);
    const appointment = records.find((r) => r.upstreamId === '2')?.toFhir(testResolver());
    expect(appointment?.participant.map((p) => p.actor?.reference?.split('/')[0])).toEqual([
      'Patient',
      'Practitioner',
      'Location',
    ]);
    expect(appointment?.comment).toBe('Bring insurance card');
  });

  it('searches Slots in chunks no longer than the window limit the server states', async () => {
    h.sim.quirks.set({ slotSearchMaxDays: 2 });
    const connector = h.connector();
    const week = { from: new Date('2026-11-23T05:00:00Z'), to: new Date('2026-11-30T05:00:00Z') };
    const gaps = await connector.blocksInWindow(week);
    expect(connector.upstreamCapabilities?.slotSearchMaxDays).toBe(2);
    const resolve = testResolver();
    const johnsonMonday = gaps
      .map((g) => g.toFhir(resolve))
      .filter((s) => s.schedule.reference === `Schedule/${resolve('Schedule', '1-1')}`)
      .filter((s) => s.start.startsWith('2026-11-23'));
    // Open 08:00–12:00 (the 09:00 visit's Slot is busy, which is still bookable time): closed before and after.
    expect(johnsonMonday.map((s) => [s.start, s.end, s.status])).toEqual([
      ['2026-11-23T00:00:00-05:00', '2026-11-23T08:00:00-05:00', 'busy-unavailable'],
      ['2026-11-23T12:00:00-05:00', '2026-11-24T00:00:00-05:00', 'busy-unavailable'],
    ]);
    // A server that refuses wide windows really refuses them: the chunking is what makes this work.
    const wide = await fetch(
      `${h.sim.fhirBase('tiny')}/Slot?start=ge2026-11-23T05:00:00Z&start=lt2026-11-30T05:00:00Z`,
      { headers: { authorization: `Bearer ${await token(h)}` } },
    );
    expect(wide.status).toBe(400);
  });

  it('renews its token before expiry and again when the server says 401', async () => {
    const clock = new ManualClock();
    const connector = h.connector({}, { now: () => clock.now().getTime() });
    await connector.appointmentsInWindow(MONDAY);
    // The sim's clock passes the 300 s lifetime while the connector's does not: the next call meets a 401.
    h.simClock.advanceSeconds(301);
    const calls = connector.upstreamCalls;
    await expect(connector.appointmentsInWindow(MONDAY)).resolves.toHaveLength(2);
    expect(connector.upstreamCalls - calls).toBe(3); // refused call, new token, call again
    // Near expiry by its own clock, it renews first instead of sending a token about to lapse.
    clock.advanceSeconds(290);
    h.simClock.advanceSeconds(290);
    const before = connector.upstreamCalls;
    await connector.appointmentsInWindow(MONDAY);
    expect(connector.upstreamCalls - before).toBe(2); // token, call
  });

  it('waits out a 429 for as long as Retry-After says', async () => {
    const waits: number[] = [];
    const connector = h.connector(
      {},
      {
        client: {
          sleep: async (ms) => {
            waits.push(ms);
            h.simClock.advanceSeconds(ms / 1000);
          },
        },
      },
    );
    await connector.appointmentsInWindow(MONDAY); // token
    h.sim.faults.set({ rateLimitPerMinute: 1 });
    await connector.appointmentsInWindow(MONDAY);
    await expect(connector.appointmentsInWindow(MONDAY)).resolves.toHaveLength(2);
    expect(waits.length).toBeGreaterThan(0);
    expect(waits.every((ms) => ms >= 1000 && ms % 1000 === 0)).toBe(true);
  });

  it('backs off exponentially on a 429 without Retry-After, then gives up as rate-limited', async () => {
    const waits: number[] = [];
    const connector = h.connector(
      {},
      {
        client: {
          sleep: async (ms) => void waits.push(ms),
          maxRateLimitWaitMs: 10_000,
          rateLimitBackoffMs: 500,
        },
      },
    );
    await connector.appointmentsInWindow(MONDAY);
    h.sim.quirks.set({ omitRetryAfter: true });
    h.sim.faults.set({ rateLimitPerMinute: 0 });
    const failure = await connector.appointmentsInWindow(MONDAY).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(UpstreamError);
    expect((failure as UpstreamError).kind).toBe('rate-limited');
    expect(waits).toEqual([500, 1000, 2000, 4000]);
  });

  it('sees a hard-deleted appointment only by its absence', async () => {
    const connector = h.connector();
    expect((await connector.appointmentsInWindow(MONDAY)).map((r) => r.upstreamId).sort()).toEqual([
      '1',
      '2',
    ]);
    await h.sim.repository('tiny').deleteResource('Appointment', '2');
    expect((await connector.appointmentsInWindow(MONDAY)).map((r) => r.upstreamId)).toEqual(['1']);
    expect(await connector.readAppointment('2')).toBeNull();
  });

  it('books with the marker and the upstream Slots, and finds the booking by its marker', async () => {
    const connector = h.connector();
    const created = await connector.createAppointment(write());
    const upstream = await h.sim
      .repository('tiny')
      .readResource<Appointment>('Appointment', created.upstreamId);
    expect(upstream.slot?.map((s) => s.reference)).toEqual(['Slot/1-1-202611231500']);
    const slot = await h.sim.repository('tiny').readResource<Slot>('Slot', '1-1-202611231500');
    expect(slot.status).toBe('busy');
    const found = await connector.findAppointmentsByMarker(write().marker);
    expect(found.map((r) => r.upstreamId)).toEqual([created.upstreamId]);
    const fhir = found[0]?.toFhir(testResolver());
    expect(connector.markerOf(fhir as Appointment)).toBe(write().marker);
    expect(fhir?.comment).toBeUndefined();
    expect(await connector.findAppointmentsByMarker('switchboard:someone-else')).toEqual([]);
  });

  it('finds the marker in comment when the server drops identifiers on create', async () => {
    h.sim.quirks.set({ createDropsIdentifier: true });
    const connector = h.connector({ capabilities: { identifierSurvivesCreate: false } });
    const created = await connector.createAppointment(write({ comment: 'Knee pain' }));
    const upstream = await h.sim
      .repository('tiny')
      .readResource<Appointment>('Appointment', created.upstreamId);
    expect(upstream.identifier).toBeUndefined();
    const found = await connector.findAppointmentsByMarker(write().marker);
    expect(found.map((r) => r.upstreamId)).toEqual([created.upstreamId]);
    const fhir = found[0]?.toFhir(testResolver());
    expect(connector.markerOf(fhir as Appointment)).toBe(write().marker);
    expect(fhir?.comment).toBe('Knee pain');
  });

  it('keeps cancelled time bookable when the server leaves the Slot busy', async () => {
    h.sim.quirks.set({ cancelKeepsSlotBusy: true });
    const connector = h.connector();
    const created = await connector.createAppointment(write());
    const cancelled = await connector.cancelAppointment(created.upstreamId, 'Patient request');
    expect(cancelled.toFhir(testResolver()).status).toBe('cancelled');
    const slot = await h.sim.repository('tiny').readResource<Slot>('Slot', '1-1-202611231500');
    expect(slot.status).toBe('busy');
    // No gap (busy-unavailable) covers 10:00: the time is open again as far as Switchboard is concerned.
    const gaps = (await connector.blocksInWindow(MONDAY)).map((g) => g.toFhir(testResolver()));
    expect(
      gaps.some(
        (g) =>
          Date.parse(g.start) <= Date.parse('2026-11-23T15:00:00Z') &&
          Date.parse(g.end) > Date.parse('2026-11-23T15:00:00Z') &&
          g.start.startsWith('2026-11-23T0'),
      ),
    ).toBe(false);
  });

  it('registers a patient, finds the registration again, and lists patients changed since a cursor', async () => {
    const connector = h.connector();
    const first = await connector.patientsChangedSince(null);
    expect(first.records.length).toBeGreaterThan(0);
    const patient = {
      resourceType: 'Patient' as const,
      name: [{ use: 'official' as const, family: 'Okafor', given: ['Ada'] }],
      birthDate: '1990-05-17',
      telecom: [{ system: 'phone' as const, value: '518-555-0142' }],
      gender: 'female' as const,
    };
    const created = await connector.createPatient(patient);
    const found = await connector.findCreatedPatients(patient);
    expect(found.map((r) => r.upstreamId)).toEqual([created.upstreamId]);
    expect(await connector.findCreatedPatients({ ...patient, birthDate: '1990-05-18' })).toEqual([]);
    const changed = await connector.patientsChangedSince(first.cursor);
    expect(changed.records.map((r) => r.upstreamId)).toContain(created.upstreamId);
    expect(first.cursor).not.toBeNull();
    expect((changed.cursor ?? '') > (first.cursor ?? '')).toBe(true);
    expect(connector.capabilities.incrementalPatients).toBe(true);
  });

  it('shows the other schedule when the server books another free Slot at the same time', async () => {
    h.sim.quirks.set({ createLandsOnOtherSlot: true });
    const connector = h.connector();
    // 10:30: Johnson's Slot is free, and so is Martínez's at the same time.
    const created = await connector.createAppointment(write({ start: new Date('2026-11-23T15:30:00Z') }));
    expect(created.references).toContainEqual({ resourceType: 'Practitioner', upstreamId: '2' });
    expect(created.references).not.toContainEqual({ resourceType: 'Practitioner', upstreamId: '1' });
  });
});

async function token(harness: FhirSimHarness): Promise<string> {
  const response = await fetch(harness.sim.tokenUrl('tiny'), {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'password', username: 'switchboard', password: 'demo-password' }),
  });
  return ((await response.json()) as { access_token: string }).access_token;
}
