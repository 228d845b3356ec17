/**
 * The three notifications a subscription gets (DESIGN.md section 6; standards.md 4.2): an event notification per
 * claimed outbox row, a handshake while the subscription is `requested` (2xx → active and catch-up, else error),
 * and a heartbeat when it has been idle for its heartbeat period.
 */
import { releaseClaim, claimHeartbeat, type ClaimedDelivery } from '../src/webhooks/delivery/outbox.js';
import { notificationBody } from '../src/webhooks/delivery/notification-builder.js';
import { loadNotificationEvents } from '../src/webhooks/delivery/notification-events.js';
import { eventMessageId, oneOffMessageId } from '../src/webhooks/delivery/webhook-signing.js';
import type { DeliveryTarget } from '../src/webhooks/subscriptions/subscription-record.js';
import {
  activateSubscription,
  markSubscriptionError,
} from '../src/webhooks/subscriptions/subscription-lifecycle.js';
import {
  readDeliveryTarget,
  readSubscriptionRecord,
} from '../src/webhooks/subscriptions/subscription-store.js';
import { answeredOk, describeAttempt, type SendNotification } from './webhook-attempt.js';
import type { DispatchContext } from './webhook-dispatch-context.js';
import type { DeliveryOutcomes } from './webhook-outcome.js';

export interface WebhookNotifications {
  /** Delivers one claimed outbox row and records the outcome; a claim it cannot use is released. */
  deliver(tenantId: string, claimed: ClaimedDelivery): Promise<void>;
  /** Handshakes a `requested` subscription: 2xx activates it (with catch-up), anything else marks it `error`. */
  handshake(tenantId: string, target: DeliveryTarget): Promise<void>;
  /** Sends a heartbeat, unless another dispatcher (or a delivery) notified the subscription meanwhile. */
  heartbeat(tenantId: string, target: DeliveryTarget): Promise<void>;
}

export function createWebhookNotifications(
  context: DispatchContext,
  send: SendNotification,
  outcomes: DeliveryOutcomes,
): WebhookNotifications {
  const { store, logger, metrics, now, stopping } = context;

  async function deliver(tenantId: string, claimed: ClaimedDelivery): Promise<void> {
    const target = await readDeliveryTarget(store, tenantId, claimed.subscriptionId);
    if (target?.subscription.status !== 'active') {
      await releaseClaim(store, claimed, now());
      return;
    }
    const [event] = await loadNotificationEvents(store, tenantId, [claimed]);
    if (!event) {
      await outcomes.failed(
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
      baseUrl: context.fhirBaseUrl(tenantId),
      now: now(),
    });
    const messageId = eventMessageId(tenantId, subscription.id, subscription.createdAt, claimed.eventNumber);
    const result = await send(target, body, messageId);
    if (stopping.aborted) {
      // Cut off by shutdown: not the receiver's fault; the next dispatcher sends it again (same webhook-id).
      await releaseClaim(store, claimed, now());
      return;
    }
    metrics?.latency.observe({ tenant: tenantId }, result.latencyMs / 1000);
    await outcomes.record(tenantId, claimed, subscription.id, result);
  }

  async function handshake(tenantId: string, target: DeliveryTarget): Promise<void> {
    const { subscription } = target;
    // The poll that listed it may have read before an earlier handshake of this subscription activated it: only
    // one handshake runs per subscription at a time, so a fresh read here sees any earlier one's result.
    if ((await readSubscriptionRecord(store, tenantId, subscription.id))?.status !== 'requested') return;
    const body = notificationBody(subscription, 'handshake', undefined, {
      baseUrl: context.fhirBaseUrl(tenantId),
      now: now(),
    });
    const result = await send(target, body, oneOffMessageId());
    if (stopping.aborted) return;
    if (answeredOk(result)) {
      const { caughtUp, redriven } = await activateSubscription(store, tenantId, subscription.id, {
        now: now(),
      });
      metrics?.handshakes.inc({ tenant: tenantId, outcome: 'ok' });
      logger.info(
        { tenant: tenantId, subscription: subscription.id, caughtUp, redriven },
        'webhook subscription active',
      );
    } else {
      await markSubscriptionError(
        store,
        tenantId,
        subscription.id,
        `handshake failed: ${describeAttempt(result)}`,
        { now: now() },
      );
      metrics?.handshakes.inc({ tenant: tenantId, outcome: 'failed' });
      logger.warn(
        { tenant: tenantId, subscription: subscription.id, error: describeAttempt(result) },
        'webhook handshake failed',
      );
    }
  }

  async function heartbeat(tenantId: string, target: DeliveryTarget): Promise<void> {
    const { subscription } = target;
    if (!(await claimHeartbeat(store, tenantId, subscription.id, subscription.lastNotifiedAt, now()))) return;
    const body = notificationBody(subscription, 'heartbeat', undefined, {
      baseUrl: context.fhirBaseUrl(tenantId),
      now: now(),
    });
    const result = await send(target, body, oneOffMessageId());
    if (stopping.aborted) return;
    metrics?.heartbeats.inc({ tenant: tenantId, outcome: answeredOk(result) ? 'ok' : 'failed' });
  }

  return { deliver, handshake, heartbeat };
}
