/**
 * What the Subscription endpoints need beyond the facade's own {@link InteractionDeps}: the SSRF policy new
 * endpoints must pass, a way to wake the webhook dispatcher (so a handshake or a redriven delivery goes out now
 * rather than at its next poll), and settings from the `webhooks` configuration block.
 */
import type { EndpointPolicy } from '../../src/webhooks/delivery/endpoint-guard.js';

export interface SubscriptionRouteDeps {
  /** `createEndpointPolicy(config.webhooks)`: what a subscriber URL must pass at registration. */
  policy: EndpointPolicy;
  /** Wakes the dispatcher (`WebhookDispatcher.wake`). */
  wake?: () => void;
  /** The clock of store writes; default the store's. */
  now?: () => Date;
  /** How long the previous secret keeps signing after `$rotate-secret`; `webhooks.secretOverlapSeconds`, default 24 h. */
  secretOverlapSeconds?: number;
  /** `SubscriptionTopic.version` of the served topics; default the software version. */
  topicVersion?: string;
}
