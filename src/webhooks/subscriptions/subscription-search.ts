/**
 * Searching a tenant's subscriptions (standards.md 4.2, "R4 server conformance"; FHIR R4 Subscription search
 * parameters https://hl7.org/fhir/R4/subscription.html#search): `_id`, `status`, `url` (the channel endpoint)
 * and `criteria` (the topic canonical). The facade parses the query and renders the Bundle
 * (`fhir/subscriptions/subscription-interactions.ts`); which subscriptions match is decided here.
 */
import type { Subscription } from '@medplum/fhirtypes';
import type { Store } from '../../store/database.js';
import { readResource, type StoredResource } from '../../store/resource-store.js';
import type { SubscriptionRecord } from './subscription-record.js';
import { listSubscriptions } from './subscription-store.js';

/** The search parameters a Subscription search understands. */
export const SUBSCRIPTION_SEARCH_PARAMETERS = ['_id', 'status', 'url', 'criteria'] as const;

/** One of {@link SUBSCRIPTION_SEARCH_PARAMETERS}. */
export type SubscriptionSearchParameter = (typeof SUBSCRIPTION_SEARCH_PARAMETERS)[number];

/** True for a parameter a Subscription search understands. */
export function isSubscriptionSearchParameter(name: string): name is SubscriptionSearchParameter {
  return (SUBSCRIPTION_SEARCH_PARAMETERS as readonly string[]).includes(name);
}

/**
 * A search: for each parameter, the lists it was given (a repeated parameter gives several). A subscription
 * matches when, for every parameter, it matches every list, and it matches a list when it has one of its values
 * (FHIR's AND of repeated parameters, OR within a comma list).
 */
export type SubscriptionCriteria = ReadonlyMap<SubscriptionSearchParameter, ReadonlyArray<readonly string[]>>;

/**
 * The stored, live Subscription resources of the tenant matching `criteria`, oldest first; every match in one
 * answer (a tenant has few).
 *
 * @see https://hl7.org/fhir/R4/search.html#combining
 */
export async function searchSubscriptions(
  store: Store,
  tenantId: string,
  criteria: SubscriptionCriteria,
  /** Only the subscriptions this client created; undefined for all (an operator). */
  owner?: string,
): Promise<Array<StoredResource<Subscription>>> {
  const records = (await listSubscriptions(store, tenantId)).filter(
    (record) => (owner === undefined || record.ownerClientId === owner) && matchesCriteria(record, criteria),
  );
  const matches: Array<StoredResource<Subscription>> = [];
  for (const record of records) {
    const stored = await readResource(store, tenantId, 'Subscription', record.id);
    if (stored && !stored.deleted) matches.push(stored);
  }
  return matches;
}

/** True when `record` matches every list of every parameter of `criteria`. */
export function matchesCriteria(record: SubscriptionRecord, criteria: SubscriptionCriteria): boolean {
  const matchesAll = (name: SubscriptionSearchParameter, actual: string) =>
    (criteria.get(name) ?? []).every((anyOf) => anyOf.includes(actual));
  return (
    matchesAll('_id', record.id) &&
    matchesAll('status', record.status) &&
    matchesAll('url', record.endpoint) &&
    matchesAll('criteria', record.topic)
  );
}
