/**
 * Standard Webhooks signing (standards.md section 5): `whsec_<base64>` secrets, one per subscription, and the
 * three headers. The `standardwebhooks` library computes the signature, so what we send is exactly what its
 * `Webhook.verify` accepts. During a rotation overlap the message carries two signatures, new and old,
 * space-separated, so a receiver that has either secret verifies it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

const SECRET_PREFIX = 'whsec_';
/** 32 random bytes: inside the 24–64 the specification asks for. */
const SECRET_BYTES = 32;

/** A new `whsec_…` signing secret. @see standards.md section 5 */
export function generateWebhookSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(SECRET_BYTES).toString('base64')}`;
}

/** The headers that make a message verifiable. */
export interface SignatureHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/**
 * Signs `body` for message `messageId` at `timestamp` with every secret given (current first).
 *
 * @see standards.md section 5
 */
export function signWebhook(
  messageId: string,
  timestamp: Date,
  body: string,
  secrets: readonly string[],
): SignatureHeaders {
  if (secrets.length === 0) throw new Error('signWebhook needs at least one secret');
  const signatures = secrets.map((secret) => new Webhook(secret).sign(messageId, timestamp, body));
  return {
    'webhook-id': messageId,
    'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
    'webhook-signature': signatures.join(' '),
  };
}

/**
 * The `webhook-id` of one event to one subscription: the same on every retry and redrive, so receivers can
 * deduplicate; opaque, so it reveals nothing; distinct for a subscription re-created under the same id.
 */
export function eventMessageId(
  tenantId: string,
  subscriptionId: string,
  subscriptionCreatedAt: string,
  eventNumber: number,
): string {
  const digest = createHash('sha256')
    .update(`${tenantId}\n${subscriptionId}\n${subscriptionCreatedAt}\n${eventNumber}`)
    .digest('base64url')
    .slice(0, 27);
  return `msg_${digest}`;
}

/** A `webhook-id` for a one-off message (handshake, heartbeat). */
export function oneOffMessageId(): string {
  return `msg_${randomBytes(20).toString('base64url').slice(0, 27)}`;
}
