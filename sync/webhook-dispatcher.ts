/**
 * The webhook dispatcher (DESIGN.md section 6; standards.md 4.2 and 5; reliability.md 1.2 and 2): works the
 * outbox that `src/events/change-writer.ts` fills, at least once and in order per resource.
 *
 * Every poll, per tenant: handshakes for `requested` subscriptions, heartbeats for active subscriptions idle for
 * their heartbeat period, then claims of due deliveries up to each endpoint's free slots (`webhook-claims.ts`).
 * Each delivery runs on its own: the poll never waits for an answer, so one slow or dead subscriber never delays
 * another. A notification (`webhook-notifications.ts`) is signed and sent by `webhook-attempt.ts`, and what it
 * came to is recorded by `webhook-outcome.ts` (delivered, gone, retried later or dead-lettered). Every few seconds
 * housekeeping switches off subscriptions that ended or have failed for too long, and refreshes the outbox gauges.
 *
 * The poll is a timer, not node-cron like the sync engine: it runs more often than once a second in tests and
 * small deployments, and a poll that finds nothing to do costs a few indexed queries.
 */
import { setMaxListeners } from 'node:events';
import type { Registry } from 'prom-client';
import type { WebhookSettings } from '../src/config.js';
import type { Logger } from '../src/logger.js';
import type { Store } from '../src/store/database.js';
import { deliveryCounts } from '../src/webhooks/delivery/outbox.js';
import {
  createEndpointPolicy,
  type EndpointPolicy,
  type HostLookup,
} from '../src/webhooks/delivery/endpoint-guard.js';
import { deliveryTargetsWithStatus } from '../src/webhooks/subscriptions/subscription-store.js';
import { createNotificationSender } from './webhook-attempt.js';
import { createWebhookClaims } from './webhook-claims.js';
import type { DispatchContext } from './webhook-dispatch-context.js';
import { createWebhookMetrics } from './webhook-metrics.js';
import { createWebhookNotifications } from './webhook-notifications.js';
import { createDeliveryOutcomes } from './webhook-outcome.js';

export interface WebhookDispatcherOptions {
  store: Store;
  /** Tenant ids whose outboxes this dispatcher works. */
  tenants: readonly string[];
  settings: WebhookSettings;
  logger: Logger;
  metrics?: Registry;
  /** The tenant's FHIR base URL (`http://host/fhir/{tenant}`), for references in notifications. */
  fhirBaseUrl: (tenantId: string) => string;
  /**
   * The clock of claims, retries and heartbeats; default the system clock. Signatures are always stamped with
   * the wall clock: receivers check them against theirs.
   */
  now?: () => Date;
  /** Replaces DNS in the endpoint guard (tests). */
  lookup?: HostLookup;
  /** Replaces the endpoint policy built from `settings` (tests). */
  policy?: EndpointPolicy;
  random?: () => number;
  /** User-Agent of deliveries. */
  userAgent?: string;
}

export interface WebhookDispatcher {
  /** Polls every `pollIntervalMs` until stopped. */
  start(): Promise<void>;
  /** Stops polling, aborts deliveries in flight (their claims are released, not counted) and waits for them. */
  stop(): Promise<void>;
  /** One poll of every tenant; resolves when every delivery, handshake and heartbeat it started has finished. */
  runOnce(): Promise<void>;
  /** Polls now rather than at the next interval (e.g. right after a subscription was created). */
  wake(): void;
}

const HOUSEKEEPING_EVERY_MS = 5_000;

export function createWebhookDispatcher(options: WebhookDispatcherOptions): WebhookDispatcher {
  const { store, settings, logger } = options;
  const now = options.now ?? (() => new Date());
  const policy =
    options.policy ??
    createEndpointPolicy(
      { allowlist: settings.allowlist, allowedPorts: settings.allowedPorts },
      { lookup: options.lookup },
    );
  const metrics = createWebhookMetrics(options.metrics);
  const stopping = new AbortController();
  // Every delivery in flight listens on it; that is by design, not a leak.
  setMaxListeners(0, stopping.signal);
  let timer: NodeJS.Timeout | undefined;
  let polling: Promise<void> | undefined;
  /** Work became due while a poll was running: poll again right after it. */
  let pollAgain = false;
  let started = false;
  let lastHousekeeping = 0;
  const context: DispatchContext = {
    store,
    settings,
    logger,
    metrics,
    now,
    fhirBaseUrl: options.fhirBaseUrl,
    stopping: stopping.signal,
    random: options.random,
  };
  const send = createNotificationSender({
    settings,
    policy,
    userAgent: options.userAgent ?? 'Switchboard-Webhooks/1',
    now,
    signal: stopping.signal,
  });
  const outcomes = createDeliveryOutcomes(context);
  const notifications = createWebhookNotifications(context, send, outcomes);
  const claims = createWebhookClaims({
    store,
    settings,
    logger,
    onTaskFinished: () => {
      if (started && !stopping.signal.aborted) void pollOnce();
    },
  });

  async function pollTenant(tenantId: string): Promise<void> {
    for (const target of await deliveryTargetsWithStatus(store, tenantId, 'requested')) {
      claims.startOneOff(tenantId, target.subscription, () => notifications.handshake(tenantId, target));
    }
    const at = now();
    for (const target of await deliveryTargetsWithStatus(store, tenantId, 'active')) {
      const { heartbeatSeconds, lastNotifiedAt, updatedAt } = target.subscription;
      if (heartbeatSeconds === null) continue;
      const last = Date.parse(lastNotifiedAt ?? updatedAt);
      if (at.getTime() - last >= heartbeatSeconds * 1000) {
        claims.startOneOff(tenantId, target.subscription, () => notifications.heartbeat(tenantId, target));
      }
    }
    await claims.claimDue(tenantId, at, (delivery) => notifications.deliver(tenantId, delivery));
  }

  async function housekeeping(tenantId: string): Promise<void> {
    const at = now();
    for (const { subscription } of await deliveryTargetsWithStatus(store, tenantId, 'active')) {
      const { id, end, failingSince } = subscription;
      if (end !== null && end <= at.toISOString()) {
        await outcomes.disable(tenantId, id, 'ended', 'the subscription reached its end time');
      } else if (failingSince !== null && outcomes.failingTooLong(failingSince, at)) {
        await outcomes.disable(tenantId, id, 'failing', `deliveries have failed since ${failingSince}`);
      }
    }
    if (metrics) {
      const counts = await deliveryCounts(store, tenantId);
      metrics.pending.set({ tenant: tenantId }, counts.pending);
      metrics.deadLetters.set({ tenant: tenantId }, counts.deadLettered);
    }
  }

  async function poll(): Promise<void> {
    const doHousekeeping = Date.now() - lastHousekeeping >= HOUSEKEEPING_EVERY_MS;
    if (doHousekeeping) lastHousekeeping = Date.now();
    for (const tenantId of options.tenants) {
      if (stopping.signal.aborted) return;
      try {
        if (doHousekeeping) await housekeeping(tenantId);
        await pollTenant(tenantId);
      } catch (err) {
        // One tenant's trouble (its store rows, a bad subscription) must not stop the others' deliveries.
        logger.error({ err, tenant: tenantId }, 'webhook poll failed');
      }
    }
  }

  /** Polls unless a poll is running; resolves when the poll (not its deliveries) is done. */
  function pollOnce(): Promise<void> {
    if (polling) {
      pollAgain = true;
      return polling;
    }
    polling = poll().finally(() => {
      polling = undefined;
      if (pollAgain && started && !stopping.signal.aborted) {
        pollAgain = false;
        void pollOnce();
      }
    });
    return polling;
  }

  function schedule(): void {
    if (stopping.signal.aborted || !started) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      void pollOnce().finally(schedule);
    }, settings.pollIntervalMs);
  }

  return {
    async start() {
      if (started) return;
      started = true;
      void pollOnce().finally(schedule);
    },
    async stop() {
      stopping.abort();
      clearTimeout(timer);
      await polling;
      await claims.settled();
    },
    async runOnce() {
      await pollOnce();
      await claims.settled();
    },
    wake() {
      if (!started || stopping.signal.aborted) return;
      void pollOnce().finally(schedule);
    },
  };
}
