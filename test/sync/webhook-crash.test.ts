import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { activateSubscription } from '../../src/webhooks/subscriptions/subscription-lifecycle.js';
import { createSubscription } from '../../src/webhooks/subscriptions/subscription-store.js';
import { createWebhookDispatcher, type WebhookDispatcher } from '../../sync/webhook-dispatcher.js';
import { testStoreFactories, useTestStore } from '../support/test-stores.js';
import {
  appointment,
  commitAppointments,
  loopbackPolicy,
  seedPractice,
  subscriptionResource,
  TENANT,
  testWebhookSettings,
} from '../support/webhook-fixtures.js';
import { eventNotifications } from '../support/webhook-notifications.js';
import { startWebhookReceiver, waitUntil, type WebhookReceiver } from '../support/webhook-receiver.js';

const CHILD = fileURLToPath(new URL('../support/webhook-dispatcher-child.ts', import.meta.url));
const APPOINTMENTS = 100;
const ROUNDS = 10;
const EVENTS = APPOINTMENTS * ROUNDS;

// The dispatcher process opens the test's database by its URL and schema: a file on SQLite, a schema on PostgreSQL.
describe.each(testStoreFactories)('webhook delivery across a dispatcher crash ($name)', (factory) => {
  const db = useTestStore(factory);
  let child: ChildProcess | undefined;
  let receiver: WebhookReceiver | undefined;
  let survivor: WebhookDispatcher | undefined;
  afterEach(async () => {
    child?.kill('SIGKILL');
    await survivor?.stop();
    await receiver?.close();
    [child, receiver, survivor] = [undefined, undefined, undefined];
  });

  it('delivers all 1,000 pending events after the dispatcher is killed with SIGKILL mid-run; duplicates share webhook-id', async () => {
    const { store, url, schema } = db();
    await seedPractice(store);
    const hook = (receiver = await startWebhookReceiver());
    const { subscription } = await createSubscription(
      store,
      TENANT,
      subscriptionResource({ topic: 'appointment-changed', endpoint: hook.url }),
      { policy: loopbackPolicy() },
    );
    await activateSubscription(store, TENANT, subscription.id);
    const ids = Array.from({ length: APPOINTMENTS }, (_, i) => `a${i}`);
    await commitAppointments(
      store,
      ids.map((id, i) => appointment({ id, startMinutes: 15 * i })),
    );
    for (let round = 1; round <= ROUNDS; round++) {
      await commitAppointments(
        store,
        ids.map((id, i) => appointment({ id, startMinutes: 15 * i, comment: `r${round}` })),
      );
    }
    const pending = await store.db
      .selectFrom('outbox')
      .select('seq')
      .where('delivered_at', 'is', null)
      .execute();
    expect(pending).toHaveLength(EVENTS);

    // Short timeout: claims the killed process held come due again after a lease of 2 × timeout + 1 s.
    const settings = testWebhookSettings({ timeoutMs: 1_000, perEndpointConcurrency: 4 });
    const running = (child = fork(CHILD, [url, schema ?? '-', TENANT, JSON.stringify(settings)], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }));
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    await waitUntil(
      () => eventNotifications(hook.received).length >= 200,
      'the child delivered some',
      60_000,
    );
    running.kill('SIGKILL');
    await exited;
    const beforeCrash = eventNotifications(hook.received).length;
    expect(beforeCrash).toBeLessThan(EVENTS);

    survivor = createWebhookDispatcher({
      store,
      tenants: [TENANT],
      settings,
      logger: createLogger('silent'),
      fhirBaseUrl: () => `https://switchboard.test/fhir/${TENANT}`,
    });
    await survivor.start();
    await waitUntil(
      async () =>
        (await store.db.selectFrom('outbox').select('seq').where('delivered_at', 'is', null).execute())
          .length === 0,
      'every delivery was recorded',
      120_000,
    );

    const notifications = eventNotifications(hook.received);
    const idsByEvent = new Map<number, Set<string>>();
    const firstFocusOrder = new Map<string, number[]>();
    for (const n of notifications) {
      const number = n.eventNumbers[0] ?? 0;
      const seen = idsByEvent.get(number);
      if (!seen) {
        idsByEvent.set(number, new Set([n.webhookId]));
        const focus = n.foci[0] ?? '';
        firstFocusOrder.set(focus, [...(firstFocusOrder.get(focus) ?? []), number]);
      } else {
        seen.add(n.webhookId);
      }
    }
    expect([...idsByEvent.keys()].sort((x, y) => x - y)).toEqual(
      Array.from({ length: EVENTS }, (_, i) => i + 1),
    );
    for (const [number, webhookIds] of idsByEvent) expect(webhookIds.size, `event ${number}`).toBe(1);
    expect(new Set([...idsByEvent.values()].flatMap((s) => [...s])).size).toBe(EVENTS);
    for (const [focus, numbers] of firstFocusOrder) {
      expect(numbers, focus).toEqual([...numbers].sort((x, y) => x - y));
    }
    expect(notifications.length).toBeGreaterThanOrEqual(EVENTS);
  }, 240_000);
});
