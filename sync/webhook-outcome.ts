/**
 * Recording what a delivery attempt came to (DESIGN.md section 6; reliability.md 1.2): 2xx delivered; 410 Gone
 * switches the subscription off; anything else (3xx included) is retried with jittered exponential backoff and
 * `Retry-After` for the configured window, then dead-lettered. A subscription failing without a success for longer
 * than `disableAfterSeconds` is switched off with a `subscription.disabled` journal event.
 */
import {
  recordDelivered,
  recordFailure,
  recordGone,
  type ClaimedDelivery,
} from '../src/webhooks/delivery/outbox.js';
import { parseRetryAfter } from '../src/webhooks/delivery/retry-policy.js';
import { disableSubscription } from '../src/webhooks/subscriptions/subscription-lifecycle.js';
import { answeredOk, describeAttempt, type AttemptResult } from './webhook-attempt.js';
import type { DispatchContext } from './webhook-dispatch-context.js';

/** Why a subscription was switched off. */
export type DisableReason = 'gone' | 'failing' | 'ended';

export interface DeliveryOutcomes {
  /** Records the answer to one claimed delivery: delivered, gone or failed (retried or dead-lettered). */
  record(
    tenantId: string,
    claimed: ClaimedDelivery,
    subscriptionId: string,
    result: AttemptResult,
  ): Promise<void>;
  /** Records a failed attempt, schedules its retry or dead-letters it, and switches off a long-failing subscription. */
  failed(
    tenantId: string,
    claimed: ClaimedDelivery,
    subscriptionId: string,
    status: number | null,
    error: string,
    retryAfterMs: number | undefined,
  ): Promise<void>;
  /** Switches a subscription off (once), counted and logged. */
  disable(tenantId: string, id: string, reason: DisableReason, message: string): Promise<void>;
  /** A subscription failing since `since` has failed for too long at `at`. */
  failingTooLong(since: string, at: Date): boolean;
}

export function createDeliveryOutcomes(context: DispatchContext): DeliveryOutcomes {
  const { store, settings, logger, metrics, now } = context;

  const failingTooLong = (since: string, at: Date) =>
    at.getTime() - Date.parse(since) >= settings.disableAfterSeconds * 1000;

  async function disable(tenantId: string, id: string, reason: DisableReason, message: string) {
    if (await disableSubscription(store, tenantId, id, reason, message, { now: now() })) {
      metrics?.disabled.inc({ tenant: tenantId, reason });
      logger.warn({ tenant: tenantId, subscription: id, reason }, 'webhook subscription switched off');
    }
  }

  const failed: DeliveryOutcomes['failed'] = async (
    tenantId,
    claimed,
    subscriptionId,
    status,
    error,
    retryAfterMs,
  ) => {
    const at = now();
    const record = await recordFailure(store, claimed, {
      status,
      error,
      now: at,
      retryAfterMs,
      retry: settings.retry,
      random: context.random,
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
  };

  async function record(
    tenantId: string,
    claimed: ClaimedDelivery,
    subscriptionId: string,
    result: AttemptResult,
  ): Promise<void> {
    if (result.kind === 'response' && answeredOk(result)) {
      await recordDelivered(store, claimed, { status: result.status, now: now() });
      metrics?.deliveries.inc({ tenant: tenantId, outcome: 'delivered' });
      return;
    }
    if (result.kind === 'response' && result.status === 410) {
      await recordGone(store, claimed, { status: 410, now: now() });
      metrics?.deliveries.inc({ tenant: tenantId, outcome: 'gone' });
      await disable(tenantId, subscriptionId, 'gone', 'the endpoint answered 410 Gone');
      return;
    }
    const status = result.kind === 'response' ? result.status : null;
    const retryAfter = result.kind === 'response' ? parseRetryAfter(result.retryAfter, now()) : undefined;
    if (result.kind === 'refused') metrics?.deliveries.inc({ tenant: tenantId, outcome: 'refused' });
    await failed(tenantId, claimed, subscriptionId, status, describeAttempt(result), retryAfter);
  }

  return { record, failed, disable, failingTooLong };
}
