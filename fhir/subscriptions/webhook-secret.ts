/**
 * Where a subscription's Standard Webhooks signing secret (`whsec_…`, standards.md section 5) is handed to the
 * client: ONLY in the answer that created it (`POST Subscription`, `POST Subscription/[id]/$rotate-secret`),
 * twice there — in the response header {@link WEBHOOK_SECRET_HEADER} (handy with curl) and in the body (handy
 * with FHIR client libraries, which hide headers): as the extension {@link WEBHOOK_SECRET_EXTENSION} on
 * `Subscription.channel` of the created resource, or the `secret` output of `$rotate-secret`. Reads, searches
 * and notifications never show it; the extension is stripped from what clients send, so it is never stored in
 * the resource either.
 */
import type { Extension } from '@medplum/fhirtypes';
import type { BackportSubscription } from '../../src/webhooks/subscriptions/subscription-resource.js';

/** Response header carrying a new signing secret. */
export const WEBHOOK_SECRET_HEADER = 'X-Switchboard-Webhook-Secret';

/** Extension on `Subscription.channel` carrying the signing secret in the creation answer only. */
export const WEBHOOK_SECRET_EXTENSION = 'https://switchboard.health/fhir/StructureDefinition/webhook-secret';

/** Headers of an answer that carries `secret`: the secret, and no caching anywhere. */
export function secretHeaders(secret: string): Record<string, string> {
  return { [WEBHOOK_SECRET_HEADER]: secret, 'Cache-Control': 'no-store' };
}

/** `resource` with the secret extension on its channel (for the creation answer). */
export function withSecret(resource: BackportSubscription, secret: string): BackportSubscription {
  const extension: Extension[] = [
    ...(resource.channel.extension ?? []),
    { url: WEBHOOK_SECRET_EXTENSION, valueString: secret },
  ];
  return { ...resource, channel: { ...resource.channel, extension } };
}

/** `resource` without any secret extension (what a client sent back must not be stored). */
export function withoutSecret(resource: BackportSubscription): BackportSubscription {
  const channel = resource.channel as BackportSubscription['channel'] | undefined;
  if (!channel?.extension?.some((e) => e.url === WEBHOOK_SECRET_EXTENSION)) return resource;
  const extension = channel.extension.filter((e) => e.url !== WEBHOOK_SECRET_EXTENSION);
  const { extension: _old, ...rest } = channel;
  return { ...resource, channel: extension.length > 0 ? { ...rest, extension } : rest };
}
