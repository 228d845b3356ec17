import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import type { SimAppointment } from '../../src/sim/sim-types.js';
import { readResource } from '../../src/store/resource-store.js';
import { fhirIdsFor } from '../../src/store/upstream-ids.js';
import { createSubscription, readSubscription } from '../../src/webhooks/subscriptions/subscription-store.js';
import { createWebhookDispatcher, type WebhookDispatcher } from '../../sync/webhook-dispatcher.js';
import { expectValidFhir } from '../support/fhir-validators.js';
import { startSyncHarness, type SyncHarness } from '../support/sync-harness.js';
import { testStoreFactories, useTestStore } from '../support/test-stores.js';
import { TINY_FIRM, tinyFirm } from '../support/tiny-firm.js';
import { loopbackPolicy, subscriptionResource, testWebhookSettings } from '../support/webhook-fixtures.js';
import { eventNotifications, verifies } from '../support/webhook-notifications.js';
import { startWebhookReceiver, waitUntil, type WebhookReceiver } from '../support/webhook-receiver.js';

const BASE = `https://switchboard.test/fhir/${TINY_FIRM}`;

describe.each(testStoreFactories)('front-desk change to webhook, end to end ($name)', (factory) => {
  const db = useTestStore(factory);
  let harness: SyncHarness | undefined;
  let hook: WebhookReceiver | undefined;
  let dispatcher: WebhookDispatcher | undefined;
  afterEach(async () => {
    await dispatcher?.stop();
    await hook?.close();
    await harness?.close();
    [dispatcher, hook, harness] = [undefined, undefined, undefined];
  });

  it('delivers a front-desk booking in the sim as valid, signed notification Bundles with the right event numbers', async () => {
    const { store } = db();
    const h = (harness = await startSyncHarness({ firms: [{ name: TINY_FIRM, data: tinyFirm() }], store }));
    await h.engine.runOnce();
    const receiver = (hook = await startWebhookReceiver());
    const booked = await createSubscription(
      store,
      TINY_FIRM,
      subscriptionResource({
        topic: 'appointment-booked',
        endpoint: `${receiver.url}/booked`,
        content: 'full-resource',
      }),
      { policy: loopbackPolicy() },
    );
    const slots = await createSubscription(
      store,
      TINY_FIRM,
      subscriptionResource({
        topic: 'slot-availability',
        endpoint: `${receiver.url}/slots`,
        filters: [
          `Schedule?practitioner=Practitioner/${(await fhirIdsFor(store, TINY_FIRM, 'Practitioner', ['1'])).get('1') ?? ''}`,
        ],
      }),
      { policy: loopbackPolicy() },
    );
    dispatcher = createWebhookDispatcher({
      store,
      tenants: [TINY_FIRM],
      settings: testWebhookSettings(),
      logger: createLogger('silent'),
      fhirBaseUrl: () => BASE,
    });
    await dispatcher.start();
    for (const id of [booked.subscription.id, slots.subscription.id]) {
      await waitUntil(
        async () => (await readSubscription(store, TINY_FIRM, id))?.subscription.status === 'active',
        'active',
      );
    }

    const created = await h.frontDesk<SimAppointment>(TINY_FIRM, 'POST', '/appointments', {
      patientId: 2,
      providerId: 1,
      locationId: 1,
      appointmentTypeId: 1,
      start: '2026-11-24T14:00',
      durationMinutes: 15,
    });
    expect(created.status).toBe(201);
    await h.engine.runStream(TINY_FIRM, 'window-hot');
    const appointmentId = (await fhirIdsFor(store, TINY_FIRM, 'Appointment', [String(created.body.id)])).get(
      String(created.body.id),
    );

    const at = (path: string) =>
      eventNotifications(receiver.received.filter((r) => r.path === `/hook${path}`));
    await waitUntil(
      () => at('/booked').length === 1 && at('/slots').length === 1,
      'both notifications arrived',
    );

    const [bookedNotification] = at('/booked');
    const request = receiver.received.find(
      (r) => r.path === '/hook/booked' && r.headers['webhook-id'] === bookedNotification?.webhookId,
    );
    expect(request && verifies(request, booked.secret)).toBe(true);
    expectValidFhir(bookedNotification?.bundle);
    expect(bookedNotification).toMatchObject({ eventNumbers: [1], foci: [`Appointment/${appointmentId}`] });
    const stored = await readResource(store, TINY_FIRM, 'Appointment', appointmentId ?? '');
    expect(bookedNotification?.bundle.entry?.[1]?.resource).toEqual(stored?.resource);

    const [slotNotification] = at('/slots');
    expectValidFhir(slotNotification?.bundle);
    expect(slotNotification?.eventNumbers).toEqual([1]);
    expect(slotNotification?.foci[0]).toMatch(/^Schedule\//);
  });
});
