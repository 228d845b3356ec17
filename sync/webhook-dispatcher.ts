/**
 * The webhook dispatcher (DESIGN.md section 6; standards.md 4.2 and 5; reliability.md 1.2 and 2): works the
 * outbox that `src/events/change-writer.ts` fills, at least once and in order per resource.
 *
 * Every poll, per tenant: handshakes for `requested` subscriptions (2xx → active and catch-up, else error),
 * heartbeats for active subscriptions idle for their heartbeat period, then claims of due deliveries (under a
 * lease, so a crash re-delivers) up to each endpoint's free slots. Each delivery runs on its own: the poll never
 * waits for an answer, and an endpoint can hold at most `perEndpointConcurrency` requests, so one slow or dead
 * subscriber never delays another. A delivery re-checks the endpoint with the SSRF guard, signs the body with
 * the subscription's secret(s) (Standard Webhooks), POSTs to the pinned address with the per-endpoint timeout,
 * and records the outcome: 2xx delivered; 410 Gone switches the subscription off; anything else (3xx included —
 * redirects are never followed) is retried with jittered exponential backoff and `Retry-After` for the
 * configured window, then dead-lettered. A subscription failing without a success for longer than
 * `disableAfterSeconds` is switched off with a `subscription.disabled` journal event.
 *
 * The poll is a timer, not node-cron like the sync engine: it runs more often than once a second in tests and
 * small deployments, and a poll that finds nothing to do costs a few indexed queries.
 */
import { setMaxListeners } from 'node:events';
import type { Registry } from 'prom-client';
import type { WebhookSettings } from '../src/config.js';
import type { Logger } from '../src/logger.js';
import type { Store } from '../src/store/database.js';
import {
  claimDeliveries,
  claimHeartbeat,
  deliveryCounts,
  endpointOrigin,
  recordDelivered,
  recordFailure,
  recordGone,
  releaseClaim,
  type ClaimedDelivery,
} from '../src/webhooks/delivery/outbox.js';
import {
  checkEndpoint,
  createEndpointPolicy,
  EndpointRefusedError,
  type EndpointPolicy,
  type HostLookup,
} from '../src/webhooks/delivery/endpoint-guard.js';
import { notificationBody, type NotificationBody } from '../src/webhooks/delivery/notification-builder.js';
import { loadNotificationEvents } from '../src/webhooks/delivery/notification-events.js';
import { parseRetryAfter } from '../src/webhooks/delivery/retry-policy.js';
import { signingSecrets, type DeliveryTarget } from '../src/webhooks/subscriptions/subscription-record.js';
import {
  activateSubscription,
  disableSubscription,
  markSubscriptionError,
} from '../src/webhooks/subscriptions/subscription-lifecycle.js';
import {
  deliveryTargetsWithStatus,
  readDeliveryTarget,
  readSubscriptionRecord,
} from '../src/webhooks/subscriptions/subscription-store.js';
import { postWebhook, type PostOutcome } from '../src/webhooks/delivery/webhook-http.js';
import { eventMessageId, oneOffMessageId, signWebhook } from '../src/webhooks/delivery/webhook-signing.js';
import { createWebhookMetrics } from './webhook-metrics.js';

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

type SendResult = PostOutcome | { kind: 'refused'; message: string; latencyMs: number };

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
  const userAgent = options.userAgent ?? 'Switchboard-Webhooks/1';
  const stopping = new AbortController();
  // Every delivery in flight listens on it; that is by design, not a leak.
  setMaxListeners(0, stopping.signal);
  const inFlight = new Set<Promise<void>>();
  /** Requests in flight per endpoint origin, and the subscriptions they are for. */
  const endpointLoad = new Map<string, number>();
  const endpointSubscriptions = new Map<string, Map<string, number>>();
  /** Subscriptions with a handshake or heartbeat in flight. */
  const busy = new Set<string>();
  // A lease outlives the longest request, so a live dispatcher never loses its claim to another.
  const leaseMs = 2 * settings.timeoutMs + 1_000;
  let timer: NodeJS.Timeout | undefined;
  let polling: Promise<void> | undefined;
  /** Work became due while a poll was running: poll again right after it. */
  let pollAgain = false;
  let started = false;
  let lastHousekeeping = 0;

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
        if (started && !stopping.signal.aborted) void pollOnce();
      });
    inFlight.add(promise);
  }

  async function send(
    { subscription, secrets, headers: headerLines }: DeliveryTarget,
    body: NotificationBody,
    messageId: string,
  ): Promise<SendResult> {
    let endpoint;
    try {
      endpoint = await checkEndpoint(subscription.endpoint, policy);
    } catch (error) {
      if (error instanceof EndpointRefusedError) {
        return { kind: 'refused', message: `endpoint refused: ${error.message}`, latencyMs: 0 };
      }
      throw error;
    }
    const headers: Record<string, string> = {};
    for (const line of headerLines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    Object.assign(headers, {
      'content-type': body.contentType,
      'user-agent': userAgent,
      ...signWebhook(messageId, new Date(), body.body, signingSecrets(secrets, now())),
    });
    const timeoutMs = Math.min(settings.timeoutMs, (subscription.timeoutSeconds ?? Infinity) * 1000);
    return postWebhook(endpoint, {
      headers,
      body: body.body,
      timeoutMs,
      bodyLimitBytes: settings.responseBodyLimitBytes,
      signal: stopping.signal,
    });
  }

  async function deliver(tenantId: string, claimed: ClaimedDelivery): Promise<void> {
    const target = await readDeliveryTarget(store, tenantId, claimed.subscriptionId);
    if (target?.subscription.status !== 'active') {
      await releaseClaim(store, claimed, now());
      return;
    }
    const [event] = await loadNotificationEvents(store, tenantId, [claimed]);
    if (!event) {
      await failed(
        tenantId,
        claimed,
        target.subscription.id,
        null,
        'the event is no longer in the journal',
        undefined,
      );
      return;
    }
    const { subscription } = target;
    const body = notificationBody(subscription, 'event-notification', event, {
      baseUrl: options.fhirBaseUrl(tenantId),
      now: now(),
    });
    const messageId = eventMessageId(tenantId, subscription.id, subscription.createdAt, claimed.eventNumber);
    const result = await send(target, body, messageId);
    if (stopping.signal.aborted) {
      // Cut off by shutdown: not the receiver's fault; the next dispatcher sends it again (same webhook-id).
      await releaseClaim(store, claimed, now());
      return;
    }
    metrics?.latency.observe({ tenant: tenantId }, result.latencyMs / 1000);
    if (result.kind === 'response' && result.status >= 200 && result.status < 300) {
      await recordDelivered(store, claimed, { status: result.status, now: now() });
      metrics?.deliveries.inc({ tenant: tenantId, outcome: 'delivered' });
      return;
    }
    if (result.kind === 'response' && result.status === 410) {
      await recordGone(store, claimed, { status: 410, now: now() });
      metrics?.deliveries.inc({ tenant: tenantId, outcome: 'gone' });
      await disable(tenantId, subscription.id, 'gone', 'the endpoint answered 410 Gone');
      return;
    }
    const status = result.kind === 'response' ? result.status : null;
    const retryAfter = result.kind === 'response' ? parseRetryAfter(result.retryAfter, now()) : undefined;
    if (result.kind === 'refused') metrics?.deliveries.inc({ tenant: tenantId, outcome: 'refused' });
    await failed(tenantId, claimed, subscription.id, status, describe(result), retryAfter);
  }

  async function failed(
    tenantId: string,
    claimed: ClaimedDelivery,
    subscriptionId: string,
    status: number | null,
    error: string,
    retryAfterMs: number | undefined,
  ): Promise<void> {
    const at = now();
    const record = await recordFailure(store, claimed, {
      status,
      error,
      now: at,
      retryAfterMs,
      retry: settings.retry,
      random: options.random,
    });
    metrics?.deliveries.inc({ tenant: tenantId, outcome: record.deadLettered ? 'dead-lettered' : 'failed' });
    // Every retry of a dead endpoint would flood a warn log (a complaint about Mirth); dead letters are warnings,
    // and so is the first failure after a success (issue 15: a receiver answering 401 left no trace in the log).
    const firstFailure = record.failingSince === at.toISOString();
    (record.deadLettered || firstFailure ? logger.warn.bind(logger) : logger.debug.bind(logger))(
      {
        tenant: tenantId,
        subscription: subscriptionId,
        eventNumber: claimed.eventNumber,
        attempts: claimed.attempts,
        status,
        error,
        nextAttemptAt: record.nextAttemptAt,
        deadLettered: record.deadLettered,
      },
      record.deadLettered
        ? 'webhook delivery dead-lettered'
        : firstFailure
          ? 'webhook deliveries started failing; will retry'
          : 'webhook delivery failed; will retry',
    );
    if (record.failingSince !== null && failingTooLong(record.failingSince, at)) {
      await disable(
        tenantId,
        subscriptionId,
        'failing',
        `deliveries have failed since ${record.failingSince}: ${error}`,
      );
    }
  }

  const failingTooLong = (since: string, at: Date) =>
    at.getTime() - Date.parse(since) >= settings.disableAfterSeconds * 1000;

  async function disable(
    tenantId: string,
    id: string,
    reason: 'gone' | 'failing' | 'ended',
    message: string,
  ) {
    if (await disableSubscription(store, tenantId, id, reason, message, { now: now() })) {
      metrics?.disabled.inc({ tenant: tenantId, reason });
      logger.warn({ tenant: tenantId, subscription: id, reason }, 'webhook subscription switched off');
    }
  }

  async function handshake(tenantId: string, target: DeliveryTarget): Promise<void> {
    const { subscription } = target;
    // The poll that listed it may have read before an earlier handshake of this subscription activated it: only
    // one handshake runs per subscription at a time (`busy`), so a fresh read here sees any earlier one's result.
    if ((await readSubscriptionRecord(store, tenantId, subscription.id))?.status !== 'requested') return;
    const body = notificationBody(subscription, 'handshake', undefined, {
      baseUrl: options.fhirBaseUrl(tenantId),
      now: now(),
    });
    const result = await send(target, body, oneOffMessageId());
    if (stopping.signal.aborted) return;
    if (result.kind === 'response' && result.status >= 200 && result.status < 300) {
      const { caughtUp, redriven } = await activateSubscription(store, tenantId, subscription.id, {
        now: now(),
      });
      metrics?.handshakes.inc({ tenant: tenantId, outcome: 'ok' });
      logger.info(
        { tenant: tenantId, subscription: subscription.id, caughtUp, redriven },
        'webhook subscription active',
      );
    } else {
      await markSubscriptionError(store, tenantId, subscription.id, `handshake failed: ${describe(result)}`, {
        now: now(),
      });
      metrics?.handshakes.inc({ tenant: tenantId, outcome: 'failed' });
      logger.warn(
        { tenant: tenantId, subscription: subscription.id, error: describe(result) },
        'webhook handshake failed',
      );
    }
  }

  async function heartbeat(tenantId: string, target: DeliveryTarget): Promise<void> {
    const { subscription } = target;
    if (!(await claimHeartbeat(store, tenantId, subscription.id, subscription.lastNotifiedAt, now()))) return;
    const body = notificationBody(subscription, 'heartbeat', undefined, {
      baseUrl: options.fhirBaseUrl(tenantId),
      now: now(),
    });
    const result = await send(target, body, oneOffMessageId());
    if (stopping.signal.aborted) return;
    const ok = result.kind === 'response' && result.status >= 200 && result.status < 300;
    metrics?.heartbeats.inc({ tenant: tenantId, outcome: ok ? 'ok' : 'failed' });
  }

  function startOneOff(tenantId: string, target: DeliveryTarget, task: typeof handshake): void {
    const { id, endpoint } = target.subscription;
    const key = `${tenantId}/${id}`;
    if (busy.has(key) || slots(endpointOrigin(endpoint)) <= 0) return;
    busy.add(key);
    launch(endpoint, id, () => task(tenantId, target).finally(() => busy.delete(key)));
  }

  async function pollTenant(tenantId: string): Promise<void> {
    for (const target of await deliveryTargetsWithStatus(store, tenantId, 'requested')) {
      startOneOff(tenantId, target, handshake);
    }
    const at = now();
    for (const target of await deliveryTargetsWithStatus(store, tenantId, 'active')) {
      const { heartbeatSeconds, lastNotifiedAt, updatedAt } = target.subscription;
      if (heartbeatSeconds === null) continue;
      const last = Date.parse(lastNotifiedAt ?? updatedAt);
      if (at.getTime() - last >= heartbeatSeconds * 1000) startOneOff(tenantId, target, heartbeat);
    }
    const claimed = await claimDeliveries(store, tenantId, {
      now: at,
      leaseMs,
      limit: settings.batchSize,
      perSubscription: settings.perEndpointConcurrency,
      slots,
      excludeSubscriptions: saturatedSubscriptions(),
    });
    for (const delivery of claimed) {
      launch(delivery.endpoint, delivery.subscriptionId, () => deliver(tenantId, delivery));
    }
  }

  async function housekeeping(tenantId: string): Promise<void> {
    const at = now();
    for (const { subscription } of await deliveryTargetsWithStatus(store, tenantId, 'active')) {
      const { id, end, failingSince } = subscription;
      if (end !== null && end <= at.toISOString()) {
        await disable(tenantId, id, 'ended', 'the subscription reached its end time');
      } else if (failingSince !== null && failingTooLong(failingSince, at)) {
        await disable(tenantId, id, 'failing', `deliveries have failed since ${failingSince}`);
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
      await Promise.allSettled([...inFlight]);
    },
    async runOnce() {
      await pollOnce();
      await Promise.allSettled([...inFlight]);
    },
    wake() {
      if (!started || stopping.signal.aborted) return;
      void pollOnce().finally(schedule);
    },
  };
}

function describe(result: SendResult): string {
  switch (result.kind) {
    case 'refused':
      return result.message;
    case 'error':
      return `${result.error}: ${result.message}`.slice(0, 500);
    case 'response':
      return result.status >= 300 && result.status < 400
        ? `HTTP ${result.status} (redirects are not followed)`
        : `HTTP ${result.status}`;
  }
}
