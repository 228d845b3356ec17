import { describe, expect, it } from 'vitest';
import { readJournal } from '../../../src/store/change-journal.js';
import { readResource, resourceHistory } from '../../../src/store/resource-store.js';
import { createEndpointPolicy } from '../../../src/webhooks/delivery/endpoint-guard.js';
import { SubscriptionError } from '../../../src/webhooks/subscriptions/subscription-error.js';
import { signingSecrets } from '../../../src/webhooks/subscriptions/subscription-record.js';
import {
  activateSubscription,
  disableSubscription,
  pauseSubscription,
  reenableSubscription,
} from '../../../src/webhooks/subscriptions/subscription-lifecycle.js';
import {
  createSubscription,
  deleteSubscription,
  listSubscriptions,
  readSubscription,
  readDeliveryTarget,
  rotateSubscriptionSecret,
  updateSubscription,
} from '../../../src/webhooks/subscriptions/subscription-store.js';
import {
  subscriptionEvents,
  subscriptionStatus,
  subscriptionStatusBundle,
} from '../../../src/webhooks/subscriptions/subscription-status.js';
import { expectValidFhir } from '../../support/fhir-validators.js';
import {
  appointment,
  commitAppointments,
  loopbackPolicy,
  seedPractice,
  subscriptionResource,
  TENANT,
} from '../../support/webhook-fixtures.js';
import { testStoreFactories, useTestStore } from '../../support/test-stores.js';

const ENDPOINT = 'http://127.0.0.1:9/hook';
const BASE = 'https://switchboard.test/fhir/clinic';

async function expectSubscriptionError(promise: Promise<unknown>, code: string): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(SubscriptionError);
    expect((error as SubscriptionError).code).toBe(code);
    return (error as SubscriptionError).message;
  }
  throw new Error('expected a SubscriptionError');
}

describe.each(testStoreFactories)('webhook subscriptions in the store ($name)', (factory) => {
  const db = useTestStore(factory);
  const policy = loopbackPolicy();
  /** Creates a subscription of the tenant under the loopback policy. */
  const create = (resource: Parameters<typeof createSubscription>[2]) =>
    createSubscription(db().store, TENANT, resource, { policy });

  it('stores the Subscription as a versioned resource with status requested and returns the secret only once', async () => {
    const { store } = db();
    const created = await create(
      subscriptionResource({ endpoint: ENDPOINT, filters: ['Appointment?practitioner=Practitioner/dr-a'] }),
    );
    expect(created.secret).toMatch(/^whsec_/);
    expect(created.subscription).toMatchObject({
      status: 'requested',
      filters: { practitioner: 'dr-a' },
      payloadContent: 'id-only',
      contentType: 'application/fhir+json',
      eventsSinceStart: 0,
    });
    expect(created.resource.resource).toMatchObject({
      resourceType: 'Subscription',
      id: created.subscription.id,
      status: 'requested',
    });
    expectValidFhir(created.resource.resource);

    const read = await readSubscription(store, TENANT, created.subscription.id);
    expect(read?.subscription).toEqual(created.subscription);
    expect(JSON.stringify(read)).not.toContain(created.secret.slice('whsec_'.length));
    expect(JSON.stringify(await listSubscriptions(store, TENANT))).not.toContain(
      created.secret.slice('whsec_'.length),
    );
    expect(await readSubscription(store, 'other-tenant', created.subscription.id)).toBeUndefined();
  });

  it.each([
    'https://127.0.0.1/hook',
    'https://10.0.0.1/hook',
    'https://169.254.169.254/latest/meta-data',
    'https://[::1]/hook',
    'https://[::ffff:127.0.0.1]/hook',
    'https://2130706433/hook',
    'http://hooks.example.com/hook',
    'https://user:pass@hooks.example.com/hook',
    'https://rebind.example.com/hook',
  ])('refuses to register %s without an allowlist', async (endpoint) => {
    const { store } = db();
    const lookup = async (host: string) => [
      { address: host === 'rebind.example.com' ? '127.0.0.1' : '93.184.216.34', family: 4 },
    ];
    const strict = createEndpointPolicy({ allowlist: [] }, { lookup });
    await expectSubscriptionError(
      createSubscription(store, TENANT, subscriptionResource({ endpoint }), { policy: strict }),
      'security',
    );
    expect(await listSubscriptions(store, TENANT)).toEqual([]);
  });

  it('refuses an unknown topic, an unsupported filter, a non-rest-hook channel and a reserved header', async () => {
    const base = subscriptionResource({ endpoint: ENDPOINT });
    await expectSubscriptionError(
      create({ ...base, criteria: 'https://example.org/SubscriptionTopic/x' }),
      'not-supported',
    );
    await expectSubscriptionError(
      create(subscriptionResource({ endpoint: ENDPOINT, filters: ['Appointment?status=booked'] })),
      'not-supported',
    );
    await expectSubscriptionError(
      create({ ...base, channel: { ...base.channel, type: 'websocket' } }),
      'not-supported',
    );
    await expectSubscriptionError(
      create(subscriptionResource({ endpoint: ENDPOINT, headers: ['webhook-signature: x'] })),
      'value',
    );
    await expectSubscriptionError(
      create({ ...base, channel: { ...base.channel, payload: 'application/fhir+xml' } }),
      'not-supported',
    );
  });

  it('keeps the status across an update, pauses on off, and asks for a new handshake to switch back on', async () => {
    const { store } = db();
    const { subscription } = await create(subscriptionResource({ endpoint: ENDPOINT }));
    await activateSubscription(store, TENANT, subscription.id);

    const updated = await updateSubscription(
      store,
      TENANT,
      subscription.id,
      subscriptionResource({ endpoint: ENDPOINT, content: 'full-resource', status: 'requested' }),
      { policy },
    );
    expect(updated.subscription).toMatchObject({ status: 'active', payloadContent: 'full-resource' });
    expect(updated.resource.resource.status).toBe('active');

    const paused = await updateSubscription(
      store,
      TENANT,
      subscription.id,
      subscriptionResource({ endpoint: ENDPOINT, status: 'off' }),
      { policy },
    );
    expect(paused.subscription.status).toBe('off');
    const again = await updateSubscription(
      store,
      TENANT,
      subscription.id,
      subscriptionResource({ endpoint: ENDPOINT, status: 'active' }),
      { policy },
    );
    expect(again.subscription.status).toBe('requested');
    const versions = await resourceHistory(store, TENANT, 'Subscription', subscription.id);
    expect(versions.map((v) => v.resource.status)).toEqual([
      'requested',
      'off',
      'active',
      'active',
      'requested',
    ]);
    for (const version of versions) expectValidFhir(version.resource);
    await expectSubscriptionError(
      updateSubscription(store, TENANT, 'nope', subscriptionResource({ endpoint: ENDPOINT }), { policy }),
      'not-found',
    );
  });

  it('deletes the subscription, its resource (a deleted version) and its queued deliveries', async () => {
    const { store } = db();
    await seedPractice(store);
    const { subscription } = await create(subscriptionResource({ endpoint: ENDPOINT }));
    await activateSubscription(store, TENANT, subscription.id);
    await commitAppointments(store, [appointment({ id: 'a1' })]);
    expect(await store.db.selectFrom('outbox').selectAll().execute()).toHaveLength(1);

    expect(await deleteSubscription(store, TENANT, subscription.id)).toBe(true);
    expect(await readSubscription(store, TENANT, subscription.id)).toBeUndefined();
    expect((await readResource(store, TENANT, 'Subscription', subscription.id))?.deleted).toBe(true);
    expect(await store.db.selectFrom('outbox').selectAll().execute()).toEqual([]);
    expect(await deleteSubscription(store, TENANT, subscription.id)).toBe(false);
  });

  it('signs with the old secret as well as the new one until the rotation overlap ends', async () => {
    const { store } = db();
    const t0 = new Date('2026-11-21T12:00:00.000Z');
    const created = await createSubscription(store, TENANT, subscriptionResource({ endpoint: ENDPOINT }), {
      policy,
      now: t0,
    });
    const rotated = await rotateSubscriptionSecret(store, TENANT, created.subscription.id, {
      overlapSeconds: 3600,
      now: t0,
    });
    expect(rotated.secret).not.toBe(created.secret);
    const row = (await readDeliveryTarget(store, TENANT, created.subscription.id))?.secrets;
    if (!row) throw new Error('row missing');
    expect(signingSecrets(row, new Date(t0.getTime() + 3599_000))).toEqual([rotated.secret, created.secret]);
    expect(signingSecrets(row, new Date(t0.getTime() + 3600_000))).toEqual([rotated.secret]);
    expect(
      (await readSubscription(store, TENANT, created.subscription.id))?.subscription.previousSecretExpiresAt,
    ).toBe(rotated.previousSecretExpiresAt);
  });

  it('catches up, on re-enabling, every event that happened while the subscription was off', async () => {
    const { store } = db();
    await seedPractice(store);
    const { subscription } = await create(subscriptionResource({ endpoint: ENDPOINT }));
    // Booked before the handshake succeeded: caught up on activation.
    await commitAppointments(store, [appointment({ id: 'a1' })]);
    expect(await activateSubscription(store, TENANT, subscription.id)).toEqual({ caughtUp: 1, redriven: 0 });
    await commitAppointments(store, [appointment({ id: 'a2' })]);

    expect(await disableSubscription(store, TENANT, subscription.id, 'failing', 'down for days')).toBe(true);
    await commitAppointments(store, [appointment({ id: 'a3' }), appointment({ id: 'a4' })]);
    const journal = await readJournal(store, TENANT, { limit: 100 });
    expect(journal.filter((e) => e.eventType === 'subscription.disabled')).toHaveLength(1);
    expect((await store.db.selectFrom('outbox').selectAll().execute()).length).toBe(2);

    const requested = await reenableSubscription(store, TENANT, subscription.id);
    expect(requested.subscription.status).toBe('requested');
    expect(await activateSubscription(store, TENANT, subscription.id)).toEqual({ caughtUp: 2, redriven: 0 });
    const rows = await store.db.selectFrom('outbox').selectAll().orderBy('event_number').execute();
    expect(rows.map((r) => [r.event_number, r.focus])).toEqual([
      [1, 'Appointment/a1'],
      [2, 'Appointment/a2'],
      [3, 'Appointment/a3'],
      [4, 'Appointment/a4'],
    ]);
    expect((await readSubscription(store, TENANT, subscription.id))?.subscription).toMatchObject({
      status: 'active',
      eventsSinceStart: 4,
      lastError: null,
    });
    expect(await pauseSubscription(store, TENANT, subscription.id)).toMatchObject({
      subscription: { status: 'off' },
    });
  });

  it('answers $status and $events with valid FHIR, events by number', async () => {
    const { store } = db();
    await seedPractice(store);
    const { subscription } = await create(
      subscriptionResource({ endpoint: ENDPOINT, content: 'full-resource' }),
    );
    await activateSubscription(store, TENANT, subscription.id);
    await commitAppointments(store, [appointment({ id: 'a1' }), appointment({ id: 'a2', startMinutes: 30 })]);
    await commitAppointments(store, [appointment({ id: 'a3', startMinutes: 60 })]);

    const status = await subscriptionStatus(store, TENANT, subscription.id, { baseUrl: BASE });
    expectValidFhir(status);
    expect(status?.parameter?.find((p) => p.name === 'events-since-subscription-start')?.valueString).toBe(
      '3',
    );
    const bundle = await subscriptionStatusBundle(store, TENANT, { baseUrl: BASE, statuses: ['active'] });
    expectValidFhir(bundle);
    expect(bundle.total).toBe(1);
    expect((await subscriptionStatusBundle(store, TENANT, { baseUrl: BASE, statuses: ['off'] })).total).toBe(
      0,
    );
    const none = await subscriptionStatusBundle(store, TENANT, { baseUrl: BASE, statuses: ['off'] });
    expect(none).not.toHaveProperty('entry');
    expectValidFhir(none);

    const events = await subscriptionEvents(store, TENANT, subscription.id, {
      baseUrl: BASE,
      eventsSinceNumber: 2,
      eventsUntilNumber: 3,
    });
    expectValidFhir(events);
    const parameters = events?.entry?.[0]?.resource as {
      parameter: Array<{
        name: string;
        valueCode?: string;
        part?: Array<{ name: string; valueString?: string }>;
      }>;
    };
    expect(parameters.parameter.find((p) => p.name === 'type')?.valueCode).toBe('query-event');
    expect(
      parameters.parameter
        .filter((p) => p.name === 'notification-event')
        .map((p) => p.part?.[0]?.valueString),
    ).toEqual(['2', '3']);
    expect(events?.entry?.slice(1).map((e) => e.resource?.id)).toEqual(['a2', 'a3']);
    expect(await subscriptionEvents(store, TENANT, 'nope', { baseUrl: BASE })).toBeUndefined();
  });
});
