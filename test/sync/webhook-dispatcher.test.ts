import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { WebhookSettings } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { readJournal } from '../../src/store/change-journal.js';
import { readResource } from '../../src/store/resource-store.js';
import { listDeadLetters, redrive } from '../../src/webhooks/delivery/outbox-dead-letters.js';
import { createEndpointPolicy, type HostLookup } from '../../src/webhooks/delivery/endpoint-guard.js';
import {
  activateSubscription,
  reenableSubscription,
} from '../../src/webhooks/subscriptions/subscription-lifecycle.js';
import {
  createSubscription,
  readSubscription,
  rotateSubscriptionSecret,
} from '../../src/webhooks/subscriptions/subscription-store.js';
import { createWebhookDispatcher, type WebhookDispatcher } from '../../sync/webhook-dispatcher.js';
import { expectValidFhir } from '../support/fhir-validators.js';
import { ManualClock } from '../support/sync-harness.js';
import { testStoreFactories, useTestStore } from '../support/test-stores.js';
import {
  appointment,
  commitAppointments,
  loopbackPolicy,
  seedPractice,
  subscriptionResource,
  TENANT,
  testWebhookSettings,
  type SubscriptionOptions,
} from '../support/webhook-fixtures.js';
import { eventNotifications, parseNotification, verifies } from '../support/webhook-notifications.js';
import {
  startWebhookReceiver,
  waitUntil,
  type ReceivedWebhook,
  type ReceiverAnswer,
  type WebhookReceiver,
} from '../support/webhook-receiver.js';

const BASE = 'https://switchboard.test/fhir/clinic';

/** Answers handshakes and heartbeats with 204 and events with `answer`. */
const forEvents =
  (answer: (request: ReceivedWebhook) => ReceiverAnswer) =>
  (request: ReceivedWebhook): ReceiverAnswer =>
    parseNotification(request).type === 'event-notification' ? answer(request) : { status: 204 };

describe.each(testStoreFactories)('webhook dispatcher over real HTTP ($name)', (factory) => {
  const db = useTestStore(factory);
  const receivers: WebhookReceiver[] = [];
  const dispatchers: WebhookDispatcher[] = [];
  afterEach(async () => {
    await Promise.all(dispatchers.splice(0).map((d) => d.stop()));
    await Promise.all(receivers.splice(0).map((r) => r.close()));
  });

  async function receiver(handler?: (request: ReceivedWebhook) => ReceiverAnswer): Promise<WebhookReceiver> {
    const started = await startWebhookReceiver(handler);
    receivers.push(started);
    return started;
  }

  function dispatcher(
    options: {
      settings?: Partial<WebhookSettings>;
      lookup?: HostLookup;
      now?: () => Date;
      metrics?: Registry;
    } = {},
  ): WebhookDispatcher {
    const created = createWebhookDispatcher({
      store: db().store,
      tenants: [TENANT],
      settings: testWebhookSettings(options.settings),
      logger: createLogger('silent'),
      fhirBaseUrl: () => BASE,
      lookup: options.lookup,
      now: options.now,
      metrics: options.metrics,
    });
    dispatchers.push(created);
    void created.start();
    return created;
  }

  async function subscribe(options: SubscriptionOptions): Promise<{ id: string; secret: string }> {
    const { store } = db();
    const created = await createSubscription(store, TENANT, subscriptionResource(options), {
      policy: loopbackPolicy(),
    });
    return { id: created.subscription.id, secret: created.secret };
  }

  const status = async (id: string) => (await readSubscription(db().store, TENANT, id))?.subscription.status;
  const outbox = (id: string) =>
    db()
      .store.db.selectFrom('outbox')
      .selectAll()
      .where('subscription_id', '=', id)
      .orderBy('event_number')
      .execute();

  it('shakes hands, then delivers a signed, valid notification Bundle that standardwebhooks verifies', async () => {
    const { store } = db();
    await seedPractice(store);
    const hook = await receiver();
    const { id, secret } = await subscribe({ endpoint: hook.url, content: 'full-resource' });
    dispatcher();
    await waitUntil(async () => (await status(id)) === 'active', 'the handshake activated the subscription');
    await commitAppointments(store, [appointment({ id: 'a1' })]);
    await waitUntil(() => eventNotifications(hook.received).length === 1, 'the event arrived');

    const [handshake, delivered] = hook.received;
    if (!handshake || !delivered) throw new Error('missing requests');
    expect(parseNotification(handshake).type).toBe('handshake');
    expect(delivered.headers['content-type']).toBe('application/fhir+json');
    const notification = parseNotification(delivered);
    expectValidFhir(notification.bundle);
    expect(notification).toMatchObject({ eventNumbers: [1], foci: ['Appointment/a1'], eventsSinceStart: 1 });
    expect(notification.bundle.entry?.[1]?.resource).toMatchObject({ resourceType: 'Appointment', id: 'a1' });

    expect(verifies(delivered, secret)).toBe(true);
    expect(verifies({ ...delivered, body: delivered.body.replace('"a1"', '"a2"') }, secret)).toBe(false);
    const timestamp = String(Number(delivered.headers['webhook-timestamp']) + 1);
    expect(
      verifies({ ...delivered, headers: { ...delivered.headers, 'webhook-timestamp': timestamp } }, secret),
    ).toBe(false);
    expect(
      verifies({ ...delivered, headers: { ...delivered.headers, 'webhook-id': 'msg_other' } }, secret),
    ).toBe(false);

    await waitUntil(async () => (await outbox(id))[0]?.delivered_at !== null, 'the delivery was recorded');
    expect((await readSubscription(store, TENANT, id))?.subscription).toMatchObject({
      lastDeliveredEvent: 1,
      failingSince: null,
    });
  });

  it('sends Standard Webhooks envelopes to application/json subscribers', async () => {
    const { store } = db();
    await seedPractice(store);
    const hook = await receiver();
    const { id, secret } = await subscribe({
      endpoint: hook.url,
      contentType: 'application/json',
      content: 'id-only',
    });
    dispatcher();
    await waitUntil(async () => (await status(id)) === 'active', 'active');
    await commitAppointments(store, [appointment({ id: 'a1' })]);
    await waitUntil(() => hook.received.length === 2, 'the event arrived');
    const delivered = hook.received[1] as ReceivedWebhook;
    expect(verifies(delivered, secret)).toBe(true);
    expect(JSON.parse(delivered.body)).toMatchObject({
      type: 'appointment.booked',
      data: {
        subscription: `Subscription/${id}`,
        eventNumber: 1,
        focus: { reference: 'Appointment/a1', versionId: '1' },
      },
    });
    expect(JSON.parse(hook.received[0]?.body ?? '')).toMatchObject({ type: 'subscription.handshake' });
  });

  it('delivers every event, in order per resource, once a receiver that was down comes back', async () => {
    const { store } = db();
    await seedPractice(store);
    const hook = await receiver();
    const { id } = await subscribe({ topic: 'appointment-changed', endpoint: hook.url });
    dispatcher();
    await waitUntil(async () => (await status(id)) === 'active', 'active');
    await hook.down();

    const ids = ['a1', 'a2', 'a3', 'a4', 'a5'];
    await commitAppointments(
      store,
      ids.map((a, i) => appointment({ id: a, startMinutes: 30 * i })),
    );
    for (const round of [1, 2, 3]) {
      await commitAppointments(
        store,
        ids.map((a, i) => appointment({ id: a, startMinutes: 30 * i, comment: `note ${round}` })),
      );
    }
    await waitUntil(
      async () => (await outbox(id)).filter((r) => r.last_error !== null).length >= ids.length,
      'every resource saw a failed attempt',
    );
    await hook.up();
    await waitUntil(
      () => new Set(eventNotifications(hook.received).flatMap((n) => n.eventNumbers)).size === 15,
      'all 15 events arrived',
    );

    const firstArrival = new Map<number, string>();
    for (const n of eventNotifications(hook.received)) {
      for (const [i, number] of n.eventNumbers.entries())
        if (!firstArrival.has(number)) firstArrival.set(number, n.foci[i] ?? '');
    }
    for (const a of ids) {
      const numbers = [...firstArrival]
        .filter(([, focus]) => focus === `Appointment/${a}`)
        .map(([number]) => number);
      expect(numbers, a).toHaveLength(3);
      expect(numbers, a).toEqual([...numbers].sort((x, y) => x - y));
    }
  });

  it('holds later events of a resource while an earlier one is failing, without holding up other resources', async () => {
    const { store } = db();
    await seedPractice(store);
    let blockA1 = true;
    const hook = await receiver(
      forEvents((request) =>
        blockA1 && parseNotification(request).foci.includes('Appointment/a1')
          ? { status: 503 }
          : { status: 204 },
      ),
    );
    const { id } = await subscribe({ topic: 'appointment-changed', endpoint: hook.url });
    dispatcher();
    await waitUntil(async () => (await status(id)) === 'active', 'active');
    await commitAppointments(store, [appointment({ id: 'a1' }), appointment({ id: 'a2', startMinutes: 30 })]);
    await commitAppointments(store, [appointment({ id: 'a1', comment: 'first' })]); // event 1
    await commitAppointments(store, [appointment({ id: 'a1', comment: 'second' })]); // event 2
    await commitAppointments(store, [appointment({ id: 'a2', startMinutes: 30, comment: 'x' })]); // event 3

    const a1Attempts = () =>
      eventNotifications(hook.received).filter((n) => n.foci.includes('Appointment/a1'));
    await waitUntil(
      () => eventNotifications(hook.received).some((n) => n.eventNumbers.includes(3)),
      'a2 went out',
    );
    await waitUntil(() => a1Attempts().length >= 3, 'a1 was retried');
    expect(a1Attempts().every((n) => n.eventNumbers[0] === 1)).toBe(true);

    blockA1 = false;
    await waitUntil(() => a1Attempts().some((n) => n.eventNumbers[0] === 2), 'event 2 of a1 went out');
    const a1 = a1Attempts().map((n) => n.eventNumbers[0]);
    expect(a1.indexOf(2)).toBe(a1.length - 1);
    expect(a1.slice(0, -1).every((n) => n === 1)).toBe(true);
  });

  it('does not let a receiver that never answers delay a healthy one, even with a backlog queued ahead', async () => {
    const { store } = db();
    await seedPractice(store);
    const silent = await receiver(forEvents(() => 'hang'));
    const healthy = await receiver();
    const slow = await subscribe({ topic: 'appointment-booked', endpoint: silent.url });
    const fast = await subscribe({ topic: 'appointment-changed', endpoint: healthy.url });
    // A batch smaller than the silent subscriber's backlog: its rows must not crowd out the healthy one's.
    dispatcher({ settings: { timeoutMs: 60_000, perEndpointConcurrency: 2, batchSize: 4 } });
    await waitUntil(
      async () => (await status(slow.id)) === 'active' && (await status(fast.id)) === 'active',
      'active',
    );

    const ids = Array.from({ length: 20 }, (_, i) => `a${i}`);
    await commitAppointments(
      store,
      ids.map((id, i) => appointment({ id, startMinutes: 15 * i })),
    );
    await waitUntil(() => eventNotifications(silent.received).length === 2, 'the silent receiver holds two');
    await commitAppointments(
      store,
      ids.slice(0, 10).map((id, i) => appointment({ id, startMinutes: 15 * i, comment: 'changed' })),
    );
    await waitUntil(
      async () => (await outbox(fast.id)).filter((r) => r.delivered_at !== null).length === 10,
      'the healthy receiver got all 10',
    );

    expect(eventNotifications(healthy.received)).toHaveLength(10);
    expect(eventNotifications(silent.received)).toHaveLength(2);
    expect((await outbox(slow.id)).filter((r) => r.delivered_at !== null)).toEqual([]);
  });

  it('waits as long as Retry-After asks before trying a throttled delivery again', async () => {
    const { store } = db();
    await seedPractice(store);
    const hook = await receiver(forEvents(() => ({ status: 429, headers: { 'retry-after': '300' } })));
    const { id } = await subscribe({ endpoint: hook.url });
    dispatcher();
    await waitUntil(async () => (await status(id)) === 'active', 'active');
    const before = Date.now();
    await commitAppointments(store, [appointment({ id: 'a1' })]);
    await waitUntil(
      async () => (await outbox(id))[0]?.last_status === 429,
      'the throttled attempt was recorded',
    );
    const [row] = await outbox(id);
    expect(Date.parse(row?.next_attempt_at ?? '')).toBeGreaterThanOrEqual(before + 300_000);
    expect(eventNotifications(hook.received)).toHaveLength(1);
  });

  it('switches the subscription off when the endpoint answers 410 Gone', async () => {
    const { store } = db();
    await seedPractice(store);
    const hook = await receiver(forEvents(() => ({ status: 410 })));
    const { id } = await subscribe({ endpoint: hook.url });
    const running = dispatcher();
    await waitUntil(async () => (await status(id)) === 'active', 'active');
    await commitAppointments(store, [appointment({ id: 'a1' }), appointment({ id: 'a2', startMinutes: 30 })]);
    await waitUntil(async () => (await status(id)) === 'off', 'the subscription was switched off');

    await running.runOnce(); // lets deliveries already in flight finish
    const seen = eventNotifications(hook.received).length;
    await running.runOnce();
    await running.runOnce();
    expect(eventNotifications(hook.received)).toHaveLength(seen);
    const disabled = (await readJournal(store, TENANT, { limit: 100 })).filter(
      (e) => e.eventType === 'subscription.disabled',
    );
    expect(disabled.map((e) => e.payload)).toMatchObject([{ reason: 'gone' }]);
    const resource = await readResource(store, TENANT, 'Subscription', id);
    expect(resource?.resource).toMatchObject({ status: 'off', error: 'the endpoint answered 410 Gone' });
  });

  it('counts a redirect as a failure and never follows it to the canary', async () => {
    const { store } = db();
    await seedPractice(store);
    const canary = await receiver();
    let redirects = 0;
    const hook = await receiver(
      forEvents(() => ({ status: redirects++ % 2 ? 307 : 302, headers: { location: canary.url } })),
    );
    const { id } = await subscribe({ endpoint: hook.url });
    dispatcher();
    await waitUntil(async () => (await status(id)) === 'active', 'active');
    await commitAppointments(store, [appointment({ id: 'a1' })]);
    await waitUntil(async () => ((await outbox(id))[0]?.attempts ?? 0) >= 4, 'several redirected attempts');

    const [row] = await outbox(id);
    expect(row).toMatchObject({ delivered_at: null, dead_lettered_at: null });
    expect(row?.last_status === 302 || row?.last_status === 307).toBe(true);
    expect(row?.last_error).toMatch(/redirects are not followed/);
    expect(canary.received).toEqual([]);
  });

  it('refuses loopback targets at delivery in every spelling, and a name rebound to loopback after registration', async () => {
    const { store } = db();
    await seedPractice(store);
    const canary = await receiver();
    const port = canary.port;
    // Registered under a policy that allowlisted them (or before the name was rebound), then delivered without.
    const spellings = [
      `http://127.0.0.1:${port}/hook`,
      `http://[::ffff:127.0.0.1]:${port}/hook`,
      `http://2130706433:${port}/hook`,
      `http://0x7f.1:${port}/hook`,
      `http://127.1:${port}/hook`,
      `http://[::1]:${port}/hook`,
    ];
    const ids: string[] = [];
    for (const endpoint of spellings) {
      const { id } = await subscribe({ endpoint: `http://127.0.0.1:${port}/hook` });
      await store.write((trx) =>
        trx.updateTable('subscriptions').set({ endpoint }).where('id', '=', id).execute(),
      );
      await activateSubscription(store, TENANT, id);
      ids.push(id);
    }
    let rebound = false;
    const lookup: HostLookup = async () => [{ address: rebound ? '127.0.0.1' : '93.184.216.34', family: 4 }];
    const rebind = await createSubscription(
      store,
      TENANT,
      subscriptionResource({ endpoint: 'https://hooks.rebind.test/hook' }),
      { policy: createEndpointPolicy({ allowlist: [] }, { lookup }) },
    );
    await activateSubscription(store, TENANT, rebind.subscription.id);
    ids.push(rebind.subscription.id);
    rebound = true;

    dispatcher({ settings: { allowlist: [] }, lookup });
    await commitAppointments(store, [appointment({ id: 'a1' })]);
    for (const id of ids) {
      await waitUntil(
        async () => /endpoint refused/.test((await outbox(id))[0]?.last_error ?? ''),
        `${id} was refused`,
      );
    }
    expect(canary.received).toEqual([]);
  });

  it('rotates the signing secret with no failed verification during the overlap', async () => {
    const { store } = db();
    await seedPractice(store);
    const hook = await receiver();
    const { id, secret: first } = await subscribe({ endpoint: hook.url });
    dispatcher();
    await waitUntil(async () => (await status(id)) === 'active', 'active');
    await commitAppointments(store, [appointment({ id: 'a1' })]);
    await waitUntil(() => eventNotifications(hook.received).length === 1, 'event 1');

    const { secret: second } = await rotateSubscriptionSecret(store, TENANT, id, { overlapSeconds: 3600 });
    await commitAppointments(store, [appointment({ id: 'a2', startMinutes: 30 })]);
    await waitUntil(() => eventNotifications(hook.received).length === 2, 'event 2');
    // A receiver still on the old secret and one already on the new one both verify during the overlap.
    const duringOverlap = hook.received.slice(1);
    expect(duringOverlap.map((r) => verifies(r, first))).toEqual([true, true]);
    expect(duringOverlap.slice(1).map((r) => verifies(r, second))).toEqual([true]);

    const { secret: third } = await rotateSubscriptionSecret(store, TENANT, id, { overlapSeconds: 0 });
    await commitAppointments(store, [appointment({ id: 'a3', startMinutes: 60 })]);
    await waitUntil(() => eventNotifications(hook.received).length === 3, 'event 3');
    const afterOverlap = hook.received[hook.received.length - 1] as ReceivedWebhook;
    expect(verifies(afterOverlap, third)).toBe(true);
    expect(verifies(afterOverlap, second)).toBe(false);
  });

  it('dead-letters a delivery after its last attempt and delivers it, same webhook-id, when redriven', async () => {
    const { store } = db();
    await seedPractice(store);
    let answer = 500;
    const hook = await receiver(forEvents(() => ({ status: answer })));
    const { id } = await subscribe({ endpoint: hook.url });
    const metrics = new Registry();
    dispatcher({
      settings: { retry: { baseDelayMs: 5, maxDelayMs: 20, maxAgeSeconds: 600, maxAttempts: 3 } },
      metrics,
    });
    await waitUntil(async () => (await status(id)) === 'active', 'active');
    await commitAppointments(store, [appointment({ id: 'a1' })]);
    await waitUntil(
      async () => (await listDeadLetters(store, TENANT)).length === 1,
      'the delivery was dead-lettered',
    );

    expect(await listDeadLetters(store, TENANT, { subscriptionId: id })).toMatchObject([
      { subscriptionId: id, eventNumber: 1, eventType: 'appointment.booked', attempts: 3, lastStatus: 500 },
    ]);
    expect(eventNotifications(hook.received)).toHaveLength(3);
    const dead = await metrics.getSingleMetric('switchboard_webhook_deliveries_total')?.get();
    expect(dead?.values.find((v) => v.labels.outcome === 'dead-lettered')?.value).toBe(1);

    answer = 204;
    expect(await redrive(store, TENANT, { subscriptionId: id })).toBe(1);
    await waitUntil(
      async () => (await outbox(id))[0]?.delivered_at !== null,
      'the redriven delivery went out',
    );
    const attempts = eventNotifications(hook.received);
    expect(attempts).toHaveLength(4);
    expect(new Set(attempts.map((n) => n.webhookId)).size).toBe(1);
    expect(await listDeadLetters(store, TENANT)).toEqual([]);
  });

  it('switches off a subscription failing for too long, and catches up from the last delivered event when re-enabled', async () => {
    const { store } = db();
    await seedPractice(store);
    let answer = 204;
    const hook = await receiver(forEvents(() => ({ status: answer })));
    const { id } = await subscribe({ endpoint: hook.url });
    dispatcher({ settings: { disableAfterSeconds: 0.3 } });
    await waitUntil(async () => (await status(id)) === 'active', 'active');
    await commitAppointments(store, [appointment({ id: 'a1' })]);
    await waitUntil(async () => (await outbox(id))[0]?.delivered_at !== null, 'event 1 delivered');

    answer = 503;
    await commitAppointments(store, [appointment({ id: 'a2', startMinutes: 30 })]);
    await waitUntil(async () => (await status(id)) === 'off', 'switched off after failing');
    const disabled = (await readJournal(store, TENANT, { limit: 100 })).filter(
      (e) => e.eventType === 'subscription.disabled',
    );
    expect(disabled.map((e) => e.payload)).toMatchObject([{ reason: 'failing' }]);
    // Events while off are not queued; they are caught up on re-enabling.
    await commitAppointments(store, [
      appointment({ id: 'a3', startMinutes: 60 }),
      appointment({ id: 'a4', startMinutes: 90 }),
    ]);
    expect(await outbox(id)).toHaveLength(2);

    answer = 204;
    await reenableSubscription(store, TENANT, id);
    await waitUntil(
      async () => (await outbox(id)).length === 4 && (await outbox(id)).every((r) => r.delivered_at !== null),
      'caught up',
    );
    const delivered = eventNotifications(hook.received).filter((n) => n.eventNumbers[0] !== undefined);
    const numbers = [...new Set(delivered.flatMap((n) => n.eventNumbers))].sort((x, y) => x - y);
    expect(numbers).toEqual([1, 2, 3, 4]);
    expect((await readSubscription(store, TENANT, id))?.subscription).toMatchObject({
      status: 'active',
      lastDeliveredEvent: 4,
      eventsSinceStart: 4,
    });
    expect(hook.received.filter((r) => parseNotification(r).type === 'handshake')).toHaveLength(2);
  });

  it('sends a valid heartbeat when the subscription has been idle for its heartbeat period', async () => {
    const clock = new ManualClock(new Date().toISOString());
    const hook = await receiver();
    const { id, secret } = await subscribe({ endpoint: hook.url, heartbeatSeconds: 60 });
    const running = dispatcher({ now: clock.now });
    await waitUntil(async () => (await status(id)) === 'active', 'active');
    await running.runOnce();
    expect(hook.received.map((r) => parseNotification(r).type)).toEqual(['handshake']);

    clock.advanceSeconds(61);
    await waitUntil(() => hook.received.length === 2, 'the heartbeat arrived');
    const heartbeat = hook.received[1] as ReceivedWebhook;
    const parsed = parseNotification(heartbeat);
    expect(parsed).toMatchObject({ type: 'heartbeat', eventNumbers: [], eventsSinceStart: 0 });
    expectValidFhir(parsed.bundle);
    expect(verifies(heartbeat, secret)).toBe(true);
    await running.runOnce();
    expect(hook.received).toHaveLength(2);
  });

  it('puts a subscription whose handshake fails in error, with the reason', async () => {
    const hook = await receiver(() => ({ status: 500 }));
    const { id } = await subscribe({ endpoint: hook.url });
    dispatcher();
    await waitUntil(async () => (await status(id)) === 'error', 'error');
    const view = await readSubscription(db().store, TENANT, id);
    expect(view?.subscription.lastError).toBe('handshake failed: HTTP 500');
    expect(view?.resource.resource).toMatchObject({ status: 'error', error: 'handshake failed: HTTP 500' });
  });
});
