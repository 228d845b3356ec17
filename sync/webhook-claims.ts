/**
 * Claiming webhook work and bounding it per endpoint (DESIGN.md section 6; reliability.md 2): due deliveries are
 * claimed under a lease (so a crash re-delivers) up to each endpoint's free slots, and each claimed delivery,
 * handshake or heartbeat runs on its own. An endpoint holds at most `perEndpointConcurrency` requests, so one slow
 * or dead subscriber never delays another.
 */
import type { WebhookSettings } from '../src/config.js';
import type { Logger } from '../src/logger.js';
import type { Store } from '../src/store/database.js';
import { claimDeliveries, endpointOrigin, type ClaimedDelivery } from '../src/webhooks/delivery/outbox.js';

export interface WebhookClaimsOptions {
  store: Store;
  settings: WebhookSettings;
  logger: Logger;
  /** Called whenever a task finishes: its freed slot may let the endpoint's next due delivery go. */
  onTaskFinished: () => void;
}

export interface WebhookClaims {
  /** Claims the tenant's deliveries due at `at` that free endpoint slots allow, and starts each with `deliver`. */
  claimDue(tenantId: string, at: Date, deliver: (claimed: ClaimedDelivery) => Promise<void>): Promise<void>;
  /**
   * Starts a handshake or heartbeat for the subscription, unless one is already running for it or its endpoint
   * has no free slot.
   */
  startOneOff(
    tenantId: string,
    subscription: { id: string; endpoint: string },
    task: () => Promise<void>,
  ): void;
  /** Resolves when every task started so far has finished. */
  settled(): Promise<void>;
}

export function createWebhookClaims(options: WebhookClaimsOptions): WebhookClaims {
  const { store, settings, logger } = options;
  const inFlight = new Set<Promise<void>>();
  /** Requests in flight per endpoint origin, and the subscriptions they are for. */
  const endpointLoad = new Map<string, number>();
  const endpointSubscriptions = new Map<string, Map<string, number>>();
  /** Subscriptions with a handshake or heartbeat in flight. */
  const busy = new Set<string>();
  // A lease outlives the longest request, so a live dispatcher never loses its claim to another.
  const leaseMs = 2 * settings.timeoutMs + 1_000;

  const slots = (origin: string) => settings.perEndpointConcurrency - (endpointLoad.get(origin) ?? 0);
  const load = (endpoint: string, subscriptionId: string, delta: number) => {
    const origin = endpointOrigin(endpoint);
    const next = (endpointLoad.get(origin) ?? 0) + delta;
    if (next <= 0) endpointLoad.delete(origin);
    else endpointLoad.set(origin, next);
    const subscriptions = endpointSubscriptions.get(origin) ?? new Map<string, number>();
    const count = (subscriptions.get(subscriptionId) ?? 0) + delta;
    if (count <= 0) subscriptions.delete(subscriptionId);
    else subscriptions.set(subscriptionId, count);
    if (subscriptions.size === 0) endpointSubscriptions.delete(origin);
    else endpointSubscriptions.set(origin, subscriptions);
  };
  /** Subscriptions whose endpoint has no free slot: the claim does not even look at their rows. */
  const saturatedSubscriptions = () =>
    [...endpointSubscriptions]
      .filter(([origin]) => slots(origin) <= 0)
      .flatMap(([, subs]) => [...subs.keys()]);

  /** Runs `task` in the background, counted against its subscription's endpoint until it finishes. */
  function launch(endpoint: string, subscriptionId: string, task: () => Promise<void>): void {
    load(endpoint, subscriptionId, 1);
    const promise = task()
      .catch((err: unknown) => logger.error({ err }, 'webhook task crashed'))
      .finally(() => {
        load(endpoint, subscriptionId, -1);
        inFlight.delete(promise);
        // A freed slot may let the endpoint's next due delivery go now rather than at the next tick
        // (BENCHMARKS.md, webhooks: one endpoint was capped at its concurrency per poll interval).
        options.onTaskFinished();
      });
    inFlight.add(promise);
  }

  return {
    async claimDue(tenantId, at, deliver) {
      const claimed = await claimDeliveries(store, tenantId, {
        now: at,
        leaseMs,
        limit: settings.batchSize,
        perSubscription: settings.perEndpointConcurrency,
        slots,
        excludeSubscriptions: saturatedSubscriptions(),
      });
      for (const delivery of claimed) {
        launch(delivery.endpoint, delivery.subscriptionId, () => deliver(delivery));
      }
    },
    startOneOff(tenantId, { id, endpoint }, task) {
      const key = `${tenantId}/${id}`;
      if (busy.has(key) || slots(endpointOrigin(endpoint)) <= 0) return;
      busy.add(key);
      launch(endpoint, id, () => task().finally(() => busy.delete(key)));
    },
    async settled() {
      await Promise.allSettled([...inFlight]);
    },
  };
}
