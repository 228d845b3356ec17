/**
 * Failed webhook attempts kept and shown (issue 15 item 3): each failed attempt is recorded with its status, time
 * and a short reason; `Subscription/{id}/$status` reports the last status code and the failure count since the
 * last success, and a success afterwards resets the count (the week's failures stay kept). Both dialects.
 */
import type { Parameters } from '@medplum/fhirtypes';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/logger.js';
import { DELIVERY_FAILURE_EXTENSIONS } from '../../../src/webhooks/delivery/notification-builder.js';
import { createSubscription } from '../../../src/webhooks/subscriptions/subscription-store.js';
import {
  subscriptionStatus,
  subscriptionStatusBundle,
} from '../../../src/webhooks/subscriptions/subscription-status.js';
import { createWebhookDispatcher, type WebhookDispatcher } from '../../../sync/webhook-dispatcher.js';
import { expectValidFhir } from '../../support/fhir-validators.js';
import { testStoreFactories, useTestStore } from '../../support/test-stores.js';
import {
  appointment,
  commitAppointments,
  loopbackPolicy,
  seedPractice,
  subscriptionResource,
  TENANT,
  testWebhookSettings,
} from '../../support/webhook-fixtures.js';
import { parseNotification } from '../../support/webhook-notifications.js';
import { startWebhookReceiver, waitUntil, type WebhookReceiver } from '../../support/webhook-receiver.js';

const BASE = 'https://switchboard.test/fhir/clinic';

/** The `error` parameter that carries the delivery failures, with its extensions by URL. */
function deliveryError(status: Parameters | undefined) {
  const error = status?.parameter?.find(
    (p) => p.name === 'error' && p.extension?.some((x) => x.url === DELIVERY_FAILURE_EXTENSIONS.count),
  );
  if (!error) return undefined;
  const ext = (url: string) => error.extension?.find((x) => x.url === url);
  return {
    text: error.valueCodeableConcept?.text ?? '',
    lastStatus: ext(DELIVERY_FAILURE_EXTENSIONS.lastStatus)?.valueInteger,
    count: ext(DELIVERY_FAILURE_EXTENSIONS.count)?.valueInteger,
    lastAt: ext(DELIVERY_FAILURE_EXTENSIONS.lastAt)?.valueInstant,
  };
}

describe.each(testStoreFactories)('failed webhook attempts ($name)', (factory) => {
  const db = useTestStore(factory);
  let receiver: WebhookReceiver | undefined;
  let dispatcher: WebhookDispatcher | undefined;
  afterEach(async () => {
    await dispatcher?.stop();
    await receiver?.close();
  });

  it('keeps every failed attempt and shows the last status code and the count in $status, until a success', async () => {
    const { store } = db();
    await seedPractice(store);
    let answer = 401;
    receiver = await startWebhookReceiver((request) =>
      parseNotification(request).type === 'event-notification'
        ? { status: answer, body: 'signature mismatch' }
        : { status: 204 },
    );
    const created = await createSubscription(
      store,
      TENANT,
      subscriptionResource({ endpoint: receiver.url }),
      {
        policy: loopbackPolicy(),
      },
    );
    const id = created.subscription.id;
    dispatcher = createWebhookDispatcher({
      store,
      tenants: [TENANT],
      settings: testWebhookSettings({
        retry: { baseDelayMs: 5, maxDelayMs: 20, maxAgeSeconds: 600, maxAttempts: 1_000 },
      }),
      logger: createLogger('silent'),
      fhirBaseUrl: () => BASE,
    });
    void dispatcher.start();
    await commitAppointments(store, [appointment({ id: 'a1' })]);

    const attempts = () =>
      store.db.selectFrom('webhook_attempts').selectAll().where('subscription_id', '=', id).execute();
    await waitUntil(async () => (await attempts()).length >= 3, 'three failed attempts were kept');
    await dispatcher.stop();

    const kept = await attempts();
    expect(kept.every((a) => a.status === 401 && a.tenant_id === TENANT)).toBe(true);
    expect(kept.every((a) => a.reason.length > 0 && a.reason.length <= 200)).toBe(true);
    const status = await subscriptionStatus(store, TENANT, id, { baseUrl: BASE });
    expectValidFhir(status);
    const error = deliveryError(status);
    expect(error).toMatchObject({ lastStatus: 401, count: kept.length });
    expect(error?.lastAt).toBe(
      kept
        .map((a) => a.attempted_at)
        .sort()
        .at(-1),
    );
    expect(error?.text).toMatch(
      new RegExp(`^${kept.length} failed delivery attempts since the last success; .* answered HTTP 401`),
    );
    // The type-level search form reports the same.
    const bundle = await subscriptionStatusBundle(store, TENANT, { baseUrl: BASE });
    expect(deliveryError(bundle.entry?.[0]?.resource)).toEqual(error);

    // The receiver is fixed: the next attempt succeeds, the failure streak ends, the week's failures stay kept.
    answer = 204;
    void (dispatcher = createWebhookDispatcher({
      store,
      tenants: [TENANT],
      settings: testWebhookSettings(),
      logger: createLogger('silent'),
      fhirBaseUrl: () => BASE,
    })).start();
    await waitUntil(
      async () =>
        (
          await store.db
            .selectFrom('subscriptions')
            .select('last_success_at')
            .where('id', '=', id)
            .executeTakeFirst()
        )?.last_success_at != null,
      'a delivery succeeded',
    );
    const after = deliveryError(await subscriptionStatus(store, TENANT, id, { baseUrl: BASE }));
    expect(after?.count).toBe((await attempts()).length);
    expect(after?.text).toMatch(/in the last week \(delivering again since\)/);
  });

  it('reports no delivery error for a subscription that never failed', async () => {
    const { store } = db();
    const created = await createSubscription(
      store,
      TENANT,
      subscriptionResource({ endpoint: 'http://127.0.0.1:9/x' }),
      {
        policy: loopbackPolicy(),
      },
    );
    expect(
      deliveryError(await subscriptionStatus(store, TENANT, created.subscription.id, { baseUrl: BASE })),
    ).toBeUndefined();
  });
});
