import type { Appointment, Slot } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { availabilityVersions, EVERY_DAY } from '../../src/store/availability-versions.js';
import { writeChanges } from '../../src/store/resource-writes.js';
import { testStoreFactories, useTestStore } from '../support/test-stores.js';

const TENANT = 'versions';
const DOCTOR = 'Practitioner/dr-a';

function appointment(
  start: string,
  end: string,
  status: Appointment['status'] = 'booked',
): Appointment & { id: string } {
  return {
    resourceType: 'Appointment',
    id: 'appt-1',
    status,
    start,
    end,
    participant: [{ actor: { reference: DOCTOR }, status: 'accepted' }],
  };
}

// Free time is kept per practitioner-day until a write touching that day raises its version (issue 16 item 3).
describe.each(testStoreFactories)('availability versions ($name)', (factory) => {
  const testStore = useTestStore(factory);
  const read = (owners: string[], days: string[]) =>
    availabilityVersions(testStore().store, TENANT, owners, days).then((m) => Object.fromEntries(m));

  it('raises the days an appointment touches before and after a change, and no others', async () => {
    const { store } = testStore();
    const write = (a: Appointment & { id: string }) =>
      writeChanges(store, TENANT, [{ op: 'upsert', resource: a }]);
    await write(appointment('2026-12-07T14:00:00Z', '2026-12-07T14:15:00Z'));
    expect(await read([DOCTOR], ['2026-12-07', '2026-12-08'])).toEqual({ [`${DOCTOR} 2026-12-07`]: 1 });

    // Moved to the next day: both the day it left and the day it reached.
    await write(appointment('2026-12-08T14:00:00Z', '2026-12-08T14:15:00Z'));
    expect(await read([DOCTOR], ['2026-12-07', '2026-12-08', '2026-12-09'])).toEqual({
      [`${DOCTOR} 2026-12-07`]: 2,
      [`${DOCTOR} 2026-12-08`]: 1,
    });

    // Cancelled in place: that day only. An unchanged upsert raises nothing.
    await write(appointment('2026-12-08T14:00:00Z', '2026-12-08T14:15:00Z', 'cancelled'));
    await write(appointment('2026-12-08T14:00:00Z', '2026-12-08T14:15:00Z', 'cancelled'));
    expect(await read([DOCTOR], ['2026-12-07', '2026-12-08'])).toEqual({
      [`${DOCTOR} 2026-12-07`]: 2,
      [`${DOCTOR} 2026-12-08`]: 2,
    });
    // Deleted: the day it was on.
    await writeChanges(store, TENANT, [{ op: 'delete', resourceType: 'Appointment', id: 'appt-1' }]);
    expect(await read([DOCTOR], ['2026-12-08'])).toEqual({ [`${DOCTOR} 2026-12-08`]: 3 });
    // Another tenant's reader sees none of it.
    expect(Object.fromEntries(await availabilityVersions(store, 'other', [DOCTOR], ['2026-12-08']))).toEqual(
      {},
    );
  });

  it("raises every day of a schedule's block, and the schedule's every-day row for one longer than a year", async () => {
    const { store } = testStore();
    const block = (id: string, start: string, end: string): Slot & { id: string } => ({
      resourceType: 'Slot',
      id,
      status: 'busy-unavailable',
      schedule: { reference: 'Schedule/sched-a' },
      start,
      end,
    });
    await writeChanges(store, TENANT, [
      { op: 'upsert', resource: block('leave', '2026-12-07T05:00:00Z', '2026-12-10T05:00:00Z') },
    ]);
    // 2026-12-07T05:00Z to 2026-12-10T05:00Z meets the UTC days 7 to 10, not the 6th.
    expect(
      await read(['Schedule/sched-a'], ['2026-12-06', '2026-12-07', '2026-12-09', '2026-12-10']),
    ).toEqual({
      'Schedule/sched-a 2026-12-07': 1,
      'Schedule/sched-a 2026-12-09': 1,
      'Schedule/sched-a 2026-12-10': 1,
    });
    await writeChanges(store, TENANT, [
      { op: 'upsert', resource: block('sabbatical', '2027-01-01T05:00:00Z', '2029-01-01T05:00:00Z') },
    ]);
    expect(await read(['Schedule/sched-a'], ['2027-06-01'])).toEqual({
      [`Schedule/sched-a ${EVERY_DAY}`]: 1,
    });
  });
});
