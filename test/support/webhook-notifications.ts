/**
 * Reading what a webhook receiver got: the notification type, event numbers and foci of a backport
 * notification Bundle, and signature checks with the `standardwebhooks` library (not our code).
 */
import type { Bundle, Parameters } from '@medplum/fhirtypes';
import { Webhook } from 'standardwebhooks';
import type { ReceivedWebhook } from './webhook-receiver.js';

/** The parts of a notification Bundle tests look at. */
export interface ParsedNotification {
  type: string;
  eventNumbers: number[];
  foci: string[];
  eventsSinceStart: number;
  bundle: Bundle;
  webhookId: string;
}

/** Parses a received notification Bundle. */
export function parseNotification(request: ReceivedWebhook): ParsedNotification {
  const bundle = JSON.parse(request.body) as Bundle;
  const status = bundle.entry?.[0]?.resource as Parameters;
  const parameters = status.parameter ?? [];
  const events = parameters.filter((p) => p.name === 'notification-event');
  return {
    type: parameters.find((p) => p.name === 'type')?.valueCode ?? '',
    eventNumbers: events.map((e) => Number(e.part?.find((p) => p.name === 'event-number')?.valueString)),
    foci: events.flatMap(
      (e) => e.part?.filter((p) => p.name === 'focus').map((p) => p.valueReference?.reference ?? '') ?? [],
    ),
    eventsSinceStart: Number(
      parameters.find((p) => p.name === 'events-since-subscription-start')?.valueString,
    ),
    bundle,
    webhookId: request.headers['webhook-id'] ?? '',
  };
}

/** The event notifications among `received` (handshakes and heartbeats left out). */
export function eventNotifications(received: readonly ReceivedWebhook[]): ParsedNotification[] {
  return received.map(parseNotification).filter((n) => n.type === 'event-notification');
}

/** True when `request` verifies with `secret` (standardwebhooks `Webhook.verify`). */
export function verifies(request: ReceivedWebhook, secret: string): boolean {
  try {
    new Webhook(secret).verify(request.body, {
      'webhook-id': request.headers['webhook-id'] ?? '',
      'webhook-timestamp': request.headers['webhook-timestamp'] ?? '',
      'webhook-signature': request.headers['webhook-signature'] ?? '',
    });
    return true;
  } catch {
    return false;
  }
}
