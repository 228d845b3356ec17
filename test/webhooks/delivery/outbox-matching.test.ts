import { describe, expect, it } from 'vitest';
import {
  appendJournal,
  commitChanges,
  commitChangesInTransaction,
} from '../../../src/events/change-writer.js';
import type { Store } from '../../../src/store/database.js';
import { activateSubscription } from '../../../src/webhooks/subscriptions/subscription-lifecycle.js';
import {
  createSubscription,
  readSubscription,
} from '../../../src/webhooks/subscriptions/subscription-store.js';
import type { TopicId } from '../../../src/webhooks/subscriptions/topics.js';
import { testStoreFactories, useTestStore } from '../../support/test-stores.js';
import {
  appointment,
  commitAppointments,
  commitBlock,
  loopbackPolicy,
  PRACTICE,
  seedPractice,
  subscriptionResource,
  TENANT,
} from '../../support/webhook-fixtures.js';

const ENDPOINT = 'http://127.0.0.1:9/hook';

async function subscribe(
  store: Store,
  topic: TopicId,
  filters: string[] = [],
  options: { activate?: boolean } = {},
): Promise<string> {
  const { subscription } = await createSubscription(
    store,
    TENANT,
    subscriptionResource({ endpoint: ENDPOINT, topic, filters }),
    {
      policy: loopbackPolicy(),
    },
  );
  if (options.activate ?? true) await activateSubscription(store, TENANT, subscription.id);
  return subscription.id;
}

async function queued(store: Store, subscriptionId: string) {
  const rows = await store.db
    .selectFrom('outbox as o')
    .innerJoin('change_journal as j', (join) =>
      join.onRef('j.tenant_id', '=', 'o.tenant_id').onRef('j.seq', '=', 'o.seq'),
    )
    .select(['o.event_number', 'j.event_type', 'o.focus', 'o.order_key', 'o.context'])
    .where('o.subscription_id', '=', subscriptionId)
    .orderBy('o.event_number')
    .execute();
  return rows.map((r) => ({
    n: r.event_number,
    type: r.event_type,
    focus: r.focus,
    key: r.order_key,
    context: r.context === null ? [] : (JSON.parse(r.context) as string[]),
  }));
}

describe.each(testStoreFactories)('outbox rows written in the committing transaction ($name)', (factory) => {
  const db = useTestStore(factory);

  it('queues each event for every active subscription whose topic and filters match, numbered per subscription', async () => {
    const { store } = db();
    await seedPractice(store);
    const drA = await subscribe(store, 'appointment-booked', ['Appointment?practitioner=Practitioner/dr-a']);
    const all = await subscribe(store, 'appointment-booked');
    const cancelled = await subscribe(store, 'appointment-cancelled', ['Appointment?patient=Patient/pat-1']);
    const pending = await subscribe(store, 'appointment-booked', [], { activate: false });

    await commitAppointments(store, [
      appointment({ id: 'a1' }),
      appointment({ id: 'a2', practitioner: 'dr-b', patient: 'pat-2' }),
    ]);
    await commitAppointments(store, [appointment({ id: 'a1', status: 'cancelled' })]);
    await commitAppointments(store, { delete: ['a2'] });

    expect(await queued(store, drA)).toMatchObject([
      { n: 1, type: 'appointment.booked', focus: 'Appointment/a1' },
    ]);
    expect(await queued(store, all)).toMatchObject([
      { n: 1, focus: 'Appointment/a1', key: 'Appointment/a1' },
      { n: 2, focus: 'Appointment/a2', key: 'Appointment/a2' },
    ]);
    expect(await queued(store, cancelled)).toMatchObject([
      { n: 1, type: 'appointment.cancelled', focus: 'Appointment/a1' },
    ]);
    expect(await queued(store, pending)).toEqual([]);
    expect((await readSubscription(store, TENANT, all))?.subscription.eventsSinceStart).toBe(2);
  });

  it('matches status filters on the version the event reports', async () => {
    const { store } = db();
    await seedPractice(store);
    const arrived = await subscribe(store, 'appointment-changed', ['Appointment?status=arrived,fulfilled']);
    await commitAppointments(store, [appointment({ id: 'a1' })]);
    await commitAppointments(store, [appointment({ id: 'a1', comment: 'running late' })]);
    await commitAppointments(store, [appointment({ id: 'a1', comment: 'running late', status: 'arrived' })]);
    expect(await queued(store, arrived)).toMatchObject([
      { n: 1, type: 'appointment.changed', focus: 'Appointment/a1' },
    ]);
  });

  it('rolls the queued deliveries back with the change they belong to', async () => {
    const { store } = db();
    await seedPractice(store);
    const all = await subscribe(store, 'appointment-booked');
    await expect(
      store.write(async (trx) => {
        await commitChangesInTransaction(
          trx,
          TENANT,
          [{ op: 'upsert', resource: appointment({ id: 'a1' }) }],
          [{ eventType: 'appointment.booked', resourceType: 'Appointment', resourceId: 'a1' }],
          store.now(),
        );
        throw new Error('the caller failed after the commit');
      }),
    ).rejects.toThrow('the caller failed');
    expect(await queued(store, all)).toEqual([]);
    expect((await readSubscription(store, TENANT, all))?.subscription.eventsSinceStart).toBe(0);
  });

  it('queues nothing for a tenant without active subscriptions', async () => {
    const { store } = db();
    await seedPractice(store);
    await subscribe(store, 'appointment-booked', [], { activate: false });
    await commitAppointments(store, [appointment({ id: 'a1' })]);
    await commitAppointments(store, [appointment({ id: 'x1' })], 'other-tenant');
    expect(await store.db.selectFrom('outbox').selectAll().execute()).toEqual([]);
  });

  it('tells slot-availability subscribers which schedule gained or lost time, with the cause as context', async () => {
    const { store } = db();
    await seedPractice(store);
    const drA = await subscribe(store, 'slot-availability', ['Schedule?practitioner=Practitioner/dr-a']);
    const a1loc1 = PRACTICE.schedule('dr-a', 'loc-1');
    const a1loc2 = PRACTICE.schedule('dr-a', 'loc-2');

    await commitAppointments(store, [appointment({ id: 'a1' })]);
    await commitAppointments(store, [appointment({ id: 'a1', location: 'loc-2' })]);
    await commitAppointments(store, [appointment({ id: 'a1', location: 'loc-2', comment: 'bring forms' })]);
    await commitAppointments(store, [
      appointment({ id: 'a1', location: 'loc-2', comment: 'bring forms', status: 'cancelled' }),
    ]);
    await commitAppointments(store, [appointment({ id: 'b1', practitioner: 'dr-b' })]);
    await commitBlock(store, 'blk-1', a1loc1);

    expect(await queued(store, drA)).toEqual([
      {
        n: 1,
        type: 'appointment.booked',
        focus: `Schedule/${a1loc1}`,
        key: `Schedule/${a1loc1}`,
        context: ['Appointment/a1'],
      },
      {
        n: 2,
        type: 'appointment.changed',
        focus: `Schedule/${a1loc2}`,
        key: `Schedule/${a1loc2}`,
        context: ['Appointment/a1', `Schedule/${a1loc1}`],
      },
      {
        n: 3,
        type: 'appointment.cancelled',
        focus: `Schedule/${a1loc2}`,
        key: `Schedule/${a1loc2}`,
        context: ['Appointment/a1'],
      },
      {
        n: 4,
        type: 'slot.created',
        focus: `Schedule/${a1loc1}`,
        key: `Schedule/${a1loc1}`,
        context: ['Slot/blk-1'],
      },
    ]);
  });

  it('queues patient and sync-health events, health ordered per stream', async () => {
    const { store } = db();
    await seedPractice(store);
    const patient = await subscribe(store, 'patient-created', ['Patient?_id=pat-new']);
    const health = await subscribe(store, 'sync-health');
    for (const id of ['pat-other', 'pat-new']) {
      await commitChanges(
        store,
        TENANT,
        [{ op: 'upsert', resource: { resourceType: 'Patient', id, name: [{ family: 'New' }] } }],
        [{ eventType: 'patient.created', resourceType: 'Patient', resourceId: id }],
      );
    }
    await appendJournal(store, TENANT, [
      {
        eventType: 'sync.health-changed',
        payload: { stream: 'patients', previous: 'fresh', health: 'failing' },
      },
    ]);
    expect(await queued(store, patient)).toMatchObject([{ n: 1, focus: 'Patient/pat-new' }]);
    expect(await queued(store, health)).toMatchObject([{ n: 1, focus: null, key: 'sync-health:patients' }]);
  });

  it('queues a manual-intervention Task for booking-needs-attention subscribers, focused on the Task', async () => {
    const { store } = db();
    await seedPractice(store);
    const staff = await subscribe(store, 'booking-needs-attention');
    await commitChanges(
      store,
      TENANT,
      [
        {
          op: 'upsert',
          resource: { resourceType: 'Task', id: 'task-1', status: 'requested', intent: 'order' },
        },
      ],
      [{ eventType: 'booking.needs-attention', resourceType: 'Task', resourceId: 'task-1' }],
    );
    expect(await queued(store, staff)).toMatchObject([
      { n: 1, type: 'booking.needs-attention', focus: 'Task/task-1', key: 'Task/task-1' },
    ]);
  });
});
