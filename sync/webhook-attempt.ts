/**
 * One webhook request (DESIGN.md section 6; standards.md 5): re-checks the endpoint with the SSRF guard, signs the
 * body with the subscription's secret(s) per Standard Webhooks and POSTs it to the pinned address with the
 * per-endpoint timeout. Redirects are never followed: a 3xx is an answer like any other.
 */
import type { WebhookSettings } from '../src/config.js';
import {
  checkEndpoint,
  EndpointRefusedError,
  type EndpointPolicy,
} from '../src/webhooks/delivery/endpoint-guard.js';
import type { NotificationBody } from '../src/webhooks/delivery/notification-builder.js';
import { postWebhook, type PostOutcome } from '../src/webhooks/delivery/webhook-http.js';
import { signWebhook } from '../src/webhooks/delivery/webhook-signing.js';
import { signingSecrets, type DeliveryTarget } from '../src/webhooks/subscriptions/subscription-record.js';

/** What one attempt came to: the endpoint's answer, a transport error, or a refusal by the endpoint guard. */
export type AttemptResult = PostOutcome | { kind: 'refused'; message: string; latencyMs: number };

/** Sends `body` to the target's endpoint as the message `messageId`. */
export type SendNotification = (
  target: DeliveryTarget,
  body: NotificationBody,
  messageId: string,
) => Promise<AttemptResult>;

export interface NotificationSenderOptions {
  settings: WebhookSettings;
  policy: EndpointPolicy;
  userAgent: string;
  /** The clock that picks which of the subscription's secrets sign (a rotated secret signs until it expires). */
  now: () => Date;
  /** Aborts every request in flight (shutdown). */
  signal: AbortSignal;
}

export function createNotificationSender(options: NotificationSenderOptions): SendNotification {
  const { settings, policy, userAgent, now, signal } = options;
  return async ({ subscription, secrets, headers: headerLines }, body, messageId) => {
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
      // Signatures carry the wall clock: receivers check them against theirs.
      ...signWebhook(messageId, new Date(), body.body, signingSecrets(secrets, now())),
    });
    const timeoutMs = Math.min(settings.timeoutMs, (subscription.timeoutSeconds ?? Infinity) * 1000);
    return postWebhook(endpoint, {
      headers,
      body: body.body,
      timeoutMs,
      bodyLimitBytes: settings.responseBodyLimitBytes,
      signal,
    });
  };
}

/** The endpoint answered 2xx. */
export function answeredOk(result: AttemptResult): boolean {
  return result.kind === 'response' && result.status >= 200 && result.status < 300;
}

/** A short account of a failed attempt, for the outbox row, `$status` and the log. */
export function describeAttempt(result: AttemptResult): string {
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
