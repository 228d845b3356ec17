import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SimAppointment, SimPage, SimPatient } from '../../src/sim/sim-types.js';
import type { SimHarness } from './sim-harness.js';
import { ManualClock, appointmentBody, patientBody, startSim } from './sim-harness.js';

describe('sim wall-time stamps across daylight-saving changes (America/New_York)', () => {
  let h: SimHarness;
  beforeEach(async () => {
    h = await startSim({ clock: new ManualClock('2026-03-08T06:30:00Z') });
  });
  afterEach(async () => {
    await h.stop();
  });

  const patientIds = async (modifiedSince: string) => {
    const answer = await h.api<SimPage<SimPatient>>('GET', `/patients?modifiedSince=${modifiedSince}`);
    expect(answer.status).toBe(200);
    return answer.body.items.map((p) => p.id);
  };

  it('stamps spring-forward times in daylight time', async () => {
    // 06:30Z is 01:30 EST, just before the jump; 07:30Z is 03:30 EDT, just after it.
    const before = await h.api<SimPatient>('POST', '/patients', patientBody());
    h.clock.set('2026-03-08T07:30:00Z');
    const after = await h.api<SimPatient>('POST', '/patients', patientBody());
    expect(before.body.createdAt).toBe('2026-03-08T01:30:00');
    expect(after.body.createdAt).toBe('2026-03-08T03:30:00');
    expect(after.body.modifiedAt).toBe('2026-03-08T03:30:00');
    // The seeded patients were last modified in October, after both of these.
    const created = (ids: number[]) => ids.filter((id) => id === before.body.id || id === after.body.id);
    expect(created(await patientIds('2026-03-08T02:00'))).toEqual([after.body.id]);
    expect(created(await patientIds('2026-03-08T01:30'))).toEqual([before.body.id, after.body.id]);
    expect(created(await patientIds('2026-03-08T03:30:01'))).toEqual([]);
  });

  it('stamps both passes through the repeated autumn hour with the same wall time', async () => {
    // 05:30Z is 01:30 EDT; 06:30Z is 01:30 EST, an hour later on the same wall clock.
    h.clock.set('2026-11-01T05:30:00Z');
    const created = await h.api<SimAppointment>('POST', '/appointments', appointmentBody());
    expect(created.body.createdAt).toBe('2026-11-01T01:30:00');
    h.clock.set('2026-11-01T06:30:00Z');
    const cancelled = await h.api<SimAppointment>('POST', `/appointments/${created.body.id}/cancel`, {
      reason: 'x',
    });
    expect(cancelled.body.modifiedAt).toBe('2026-11-01T01:30:00');
    expect(cancelled.body.createdAt).toBe('2026-11-01T01:30:00');
    h.clock.set('2026-11-01T07:15:00Z');
    const later = await h.api<SimPatient>('POST', '/patients', patientBody());
    expect(later.body.createdAt).toBe('2026-11-01T02:15:00');
  });

  it('filters modifiedSince by wall time, inclusive, whatever the precision', async () => {
    h.clock.set('2026-11-01T05:30:00Z'); // 01:30 EDT
    const first = await h.api<SimPatient>('POST', '/patients', patientBody({ firstName: 'First' }));
    h.clock.set('2026-11-01T06:30:00Z'); // 01:30 EST
    const second = await h.api<SimPatient>('POST', '/patients', patientBody({ firstName: 'Second' }));
    h.clock.set('2026-11-01T06:45:30Z'); // 01:45:30 EST
    await h.api('PUT', '/patients/5', patientBody({ firstName: 'Mary-Kate', lastName: 'Lee' }));

    const all = [5, first.body.id, second.body.id];
    expect(await patientIds('2026-11-01T01:30')).toEqual(all);
    expect(await patientIds('2026-11-01T01:30:00')).toEqual(all);
    expect(await patientIds('2026-11-01T01:30:01')).toEqual([5]);
    expect(await patientIds('2026-11-01T01:45:30')).toEqual([5]);
    expect(await patientIds('2026-11-01T01:46')).toEqual([]);
    // Seeded rows were modified in October.
    expect(await patientIds('2026-10-04T09:00')).toEqual([4, 5, first.body.id, second.body.id]);
  });

  it('reports appointment changes with modifiedSince and answers 400 for a malformed one', async () => {
    h.clock.set('2026-11-01T06:30:00Z');
    const booked = await h.api<SimAppointment>('POST', '/appointments', appointmentBody());
    const answer = await h.api<SimPage<SimAppointment>>(
      'GET',
      '/appointments?modifiedSince=2026-11-01T01:00',
    );
    expect(answer.body.items.map((a) => a.id)).toEqual([booked.body.id]);
    const bad = await h.api('GET', '/appointments?modifiedSince=2026-11-01T01:00:00.000Z');
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: 'invalid_request', field: 'modifiedSince' });
  });
});
