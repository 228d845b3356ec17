/**
 * Webhook delivery across three instances (issue 11): 1,000 journal events for one subscriber while instances are
 * killed with SIGKILL and new ones started. Every event is delivered; a delivery repeated (its first attempt was in
 * flight when its instance died) keeps its `webhook-id`; each resource's events arrive first in journal order.
 *
 * The events are `booking.failed` ones appended to the journal of the demo tenant straight in the shared database
 * (the sync engine never writes that kind, so the subscriber's events are exactly these 1,000), the subscription
 * is made through the facade, and delivery is the instances' own. PostgreSQL only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendJournal } from '../../src/events/change-writer.js';
import { startDemoSim, type RunningSim } from '../../src/sim/demo-sim.js';
import { openStore, type Store } from '../../src/store/database.js';
import { eventNotifications } from '../support/webhook-notifications.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';
import { subscribe } from './support/cluster-probes.js';
import { createCluster, eventually, type Cluster } from './support/cluster.js';

const ADMIN_URL = process.env.TEST_DATABASE_URL;
const RESOURCES = 100;
const ROUNDS = 10;
const EVENTS = RESOURCES * ROUNDS;

describe.skipIf(!ADMIN_URL)('webhook delivery over three instances killed and restarted', () => {
  let sim: RunningSim;
  let cluster: Cluster;
  let receiver: WebhookReceiver;
  let store: Store;

  beforeAll(async () => {
    sim = await startDemoSim({ port: 0 });
    receiver = await startWebhookReceiver();
    cluster = await createCluster({ adminUrl: ADMIN_URL as string, simUrl: sim.url });
    await cluster.start();
    await Promise.all([cluster.start(), cluster.start()]);
    store = await openStore(cluster.databaseUrl);
  }, 120_000);

  afterAll(async () => {
    await store?.close();
    await cluster?.dispose();
    await receiver?.close();
    await sim?.stop();
  }, 60_000);

  const live = () => cluster.instances.filter((i) => i.alive());
  /**
   * What the receiver got whole: a request whose instance was killed while sending it arrives cut off (a receiver
   * rejects it — its signature would not verify — and another instance delivers that event again).
   */
  const whole = () =>
    receiver.received.filter((r) => {
      try {
        JSON.parse(r.body);
        return true;
      } catch {
        return false;
      }
    });
  const delivered = () => new Set(eventNotifications(whole()).flatMap((n) => n.eventNumbers)).size;

  it('delivers every one of 1,000 events, duplicates with their webhook-id, each resource in order', async () => {
    await subscribe(live()[0]!, 'booking-failed', receiver.url);

    const disruptions: string[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      await appendJournal(
        store,
        'demo',
        Array.from({ length: RESOURCES }, (_, i) => ({
          eventType: 'booking.failed' as const,
          resourceType: 'Appointment',
          resourceId: `scale-out-${i}`,
          payload: { bookingId: `round-${round}-${i}`, kind: 'book', code: 'slot-taken' },
        })),
      );
      // Mid-delivery: once some of this round has gone out, kill an instance (rounds 2, 4, 6, 8) or start a new
      // one in its place (rounds 3, 5, 7, 9). Always at least two instances live.
      const target = (round - 1) * RESOURCES + RESOURCES / 4;
      await eventually(async () => (delivered() >= target ? true : undefined), `round ${round} under way`);
      if (round % 2 === 0 && round < ROUNDS) {
        const victim = live()[round % live().length]!;
        await victim.kill9();
        disruptions.push(`round ${round}: killed ${victim.id}`);
      } else if (round > 1 && round < ROUNDS) {
        const joined = await cluster.start();
        disruptions.push(`round ${round}: started ${joined.id}`);
      }
    }

    await eventually(async () => (delivered() >= EVENTS ? true : undefined), 'every event delivered', {
      attempts: 600,
    });
    const notifications = eventNotifications(whole());
    const idsByEvent = new Map<number, Set<string>>();
    const firstOrderByResource = new Map<string, number[]>();
    for (const n of notifications) {
      n.eventNumbers.forEach((number, i) => {
        const ids = idsByEvent.get(number);
        if (ids) {
          ids.add(n.webhookId);
          return;
        }
        idsByEvent.set(number, new Set([n.webhookId]));
        const focus = n.foci[i] ?? n.foci[0] ?? '';
        firstOrderByResource.set(focus, [...(firstOrderByResource.get(focus) ?? []), number]);
      });
    }
    const context = JSON.stringify({ disruptions, notifications: notifications.length });
    expect(
      [...idsByEvent.keys()].sort((a, b) => a - b),
      context,
    ).toEqual(Array.from({ length: EVENTS }, (_, i) => i + 1));
    const reused = [...idsByEvent].filter(([, ids]) => ids.size > 1).map(([number]) => number);
    expect(reused, `events delivered again under another webhook-id; ${context}`).toEqual([]);
    expect(firstOrderByResource.size, context).toBe(RESOURCES);
    for (const [focus, numbers] of firstOrderByResource)
      expect(numbers, `${focus} out of order; ${context}`).toEqual([...numbers].sort((a, b) => a - b));
    expect(
      disruptions.filter((d) => d.includes('killed')),
      context,
    ).toHaveLength(4);
  }, 600_000);
});
