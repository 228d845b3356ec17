/**
 * Subscriptions belong to the client that created them (issue 14 item 9): a subscription's `channel.header` may
 * carry the subscriber's credentials, and its secret signs what the subscriber trusts. Another client of the tenant
 * gets the 404 an unknown id gets — for read, search (left out), update, delete and every instance operation —
 * unless it is configured as an operator (`clients[].operator: true`). Subscriptions created before owners were
 * recorded belong to no client: operators only. Requests without a client (a router without authentication, in
 * tests) see everything, as they always did.
 */
import { readSubscriptionRecord } from '../../src/webhooks/subscriptions/subscription-store.js';
import type { FhirRequestContext } from '../access.js';
import { notFound } from '../operation-outcome.js';

/** The client whose subscriptions the request may see; undefined when it may see all. */
export function subscriptionOwner(ctx: FhirRequestContext): string | undefined {
  const client = ctx.client;
  return client && client.operator !== true ? client.id : undefined;
}

/** 404 unless the request may see subscription `id` (which must exist: check that first). */
export async function requireOwnSubscription(ctx: FhirRequestContext, id: string): Promise<void> {
  const owner = subscriptionOwner(ctx);
  if (owner === undefined) return;
  const record = await readSubscriptionRecord(ctx.store, ctx.tenant.id, id);
  if (record?.ownerClientId !== owner) throw notFound(`Subscription/${id}`);
}
