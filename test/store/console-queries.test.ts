/**
 * The operator console's read-only queries (issue 15) on both dialects: booking sagas bucketed by hour and day,
 * open manual-intervention Tasks, patients still tagged needs-review, and deliveries per subscription.
 */
import type { Patient, Task } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { NEEDS_REVIEW_TAG } from '../../src/booking/patient-registration.js';
import { commitChanges } from '../../src/events/change-writer.js';
import { bookingFigures } from '../../src/operator/booking-figures.js';
import {
  bookingSagaBuckets,
  openAttentionTaskCount,
  openAttentionTasks,
  taggedPatientCount,
} from '../../src/store/console-queries.js';
import { testStoreFactories, useTestStore } from '../support/test-stores.js';

const TENANT = 'clinic';

describe.each(testStoreFactories)('console queries ($name)', (factory) => {
  const db = useTestStore(factory);

  it('buckets book sagas by hour and by day, by state, error code and whether they wrote upstream', async () => {
    const { store } = db();
    const rows: Array<[string, string, string, string | null, string | null]> = [
      // [created_at, kind, state, error_code, upstream_id]
      ['2026-12-06T09:05:00.000Z', 'book', 'committed', null, '11'],
      ['2026-12-06T09:55:00.000Z', 'book', 'committed', null, '12'],
      ['2026-12-06T09:59:59.999Z', 'book', 'released', 'slot-taken', null],
      ['2026-12-06T10:00:00.000Z', 'book', 'released', 'slot-taken', '13'],
      ['2026-12-05T23:59:00.000Z', 'book', 'needs-attention', 'slot-taken', '14'],
      ['2026-12-06T10:30:00.000Z', 'hold', 'held', null, null],
      ['2026-12-06T10:31:00.000Z', 'cancel', 'committed', null, '15'],
    ];
    await store.write(async (trx) => {
      for (const [i, [at, kind, state, code, upstream]] of rows.entries()) {
        await trx
          .insertInto('booking_sagas')
          .values({
            tenant_id: TENANT,
            id: `s${i}`,
            kind,
            state,
            client_id: null,
            request: '{}',
            marker: `m${i}`,
            practitioner_id: 'p',
            start_at: at,
            end_at: at,
            appointment_id: null,
            upstream_id: upstream,
            error_code: code,
            error_detail: null,
            created_at: at,
            updated_at: at,
            expires_at: at,
            owner_instance: null,
          })
          .execute();
      }
    });
    const hours = await bookingSagaBuckets(store.db, TENANT, '2026-12-06T00:00:00.000Z', 'hour');
    const key = (r: { bucket: string; state: string; errorCode: string | null; wroteUpstream: boolean }) =>
      `${r.bucket} ${r.state} ${r.errorCode ?? '-'} ${r.wroteUpstream}`;
    expect(Object.fromEntries(hours.map((r) => [key(r), r.count]))).toEqual({
      '2026-12-06T09 committed - true': 2,
      '2026-12-06T09 released slot-taken false': 1,
      '2026-12-06T10 released slot-taken true': 1,
    });
    const days = await bookingSagaBuckets(store.db, TENANT, '2026-12-05T00:00:00.000Z', 'day');
    expect(days.reduce((n, r) => n + r.count, 0)).toBe(5);
    expect(days.find((r) => r.bucket === '2026-12-05')?.state).toBe('needs-attention');
    expect(await bookingSagaBuckets(store.db, 'other-tenant', '2026-01-01', 'day')).toEqual([]);

    // The figures: booked 2, refused 1 (slot taken), rolled back 1, handed to staff 1 → 2 of 5 finished.
    const figures = bookingFigures(days, new Date('2026-12-06T12:00:00Z'), 'day', 7);
    expect(figures).toMatchObject({
      attempted: 5,
      booked: 2,
      refused: { 'slot-taken': 1 },
      rolledBack: 1,
      handedToStaff: 1,
      pending: 0,
      successRate: 2 / 5,
    });
    expect(figures.buckets.map((b) => b.booked + b.failed + b.pending).reduce((a, b) => a + b, 0)).toBe(5);
  });

  it('counts open manual-intervention Tasks and patients still awaiting review', async () => {
    const { store } = db();
    const task = (id: string, status: Task['status']): Task & { id: string } => ({
      resourceType: 'Task',
      id,
      status,
      intent: 'order',
      description: `do ${id}`,
      authoredOn: '2026-12-06T10:00:00Z',
    });
    const patient = (id: string, tagged: boolean): Patient & { id: string } => ({
      resourceType: 'Patient',
      id,
      name: [{ family: 'Doe' }],
      ...(tagged ? { meta: { tag: [{ ...NEEDS_REVIEW_TAG }] } } : {}),
    });
    await commitChanges(
      store,
      TENANT,
      [
        task('t1', 'requested'),
        task('t2', 'in-progress'),
        task('t3', 'completed'),
        task('t4', 'cancelled'),
      ].map((resource) => ({ op: 'upsert' as const, resource })),
    );
    await commitChanges(
      store,
      TENANT,
      [patient('p1', true), patient('p2', false), patient('p3', true)].map((resource) => ({
        op: 'upsert' as const,
        resource,
      })),
    );
    expect(await openAttentionTaskCount(store.db, TENANT)).toBe(2);
    expect((await openAttentionTasks(store.db, TENANT)).map((t) => [t.id, t.description]).sort()).toEqual([
      ['t1', 'do t1'],
      ['t2', 'do t2'],
    ]);
    expect(await taggedPatientCount(store.db, TENANT, NEEDS_REVIEW_TAG)).toBe(2);
    // Reviewed: staff edited the patient in the records system, sync wrote it back untagged; and a completed Task
    // leaves the list.
    await commitChanges(store, TENANT, [
      { op: 'upsert', resource: { ...patient('p1', false), name: [{ family: 'Doe', given: ['Jo'] }] } },
      { op: 'upsert', resource: task('t1', 'completed') },
    ]);
    expect(await taggedPatientCount(store.db, TENANT, NEEDS_REVIEW_TAG)).toBe(1);
    expect(await openAttentionTaskCount(store.db, TENANT)).toBe(1);
  });
});
