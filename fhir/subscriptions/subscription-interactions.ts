/**
 * The REST interactions on `Subscription` (https://hl7.org/fhir/R4/http.html; standards.md 4.2, "R4 server
 * conformance": read and write SHALL be supported): create, read, search, update, delete. Validation of the
 * backport profile, the SSRF check of the endpoint and the state machine live in `src/webhooks`; here they are
 * authorized (scopes on `Subscription`), audited and turned into FHIR answers.
 *
 * Which subscriptions a search matches is `src/webhooks/subscriptions/subscription-search.ts`; who may register
 * a `full-resource` subscription (read access to the topic's focus type too) is `payload-access.ts` there.
 */
import { requireOwnSubscription, subscriptionOwner } from './subscription-owner.js';
import { LIST_PAGE_PARAMETERS, listPage } from '../search/list-page.js';
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import type { RoutedFhirRequest } from '../fhir-request.js';
import { readResource } from '../../src/store/resource-store.js';
import { readAccessNeeded } from '../../src/webhooks/subscriptions/payload-access.js';
import {
  isSubscriptionStatus,
  SUBSCRIPTION_STATUSES,
  type SubscriptionStatus,
} from '../../src/webhooks/subscriptions/subscription-record.js';
import type { BackportSubscription } from '../../src/webhooks/subscriptions/subscription-resource.js';
import {
  isSubscriptionSearchParameter,
  searchSubscriptions,
  type SubscriptionSearchParameter,
} from '../../src/webhooks/subscriptions/subscription-search.js';
import {
  createSubscription,
  deleteSubscription,
  updateSubscription,
} from '../../src/webhooks/subscriptions/subscription-store.js';
import type { FhirRequestContext } from '../access.js';
import { audited, type InteractionDeps, type InteractionResult } from '../interactions/interaction-deps.js';
import { gone } from '../interactions/read.js';
import { matchesIfNoneMatch, versionHeaders } from '../interactions/resource-headers.js';
import { FhirError, notFound } from '../operation-outcome.js';
import { searchsetBundle } from '../search/bundle-builder.js';
import { FHIR_ID } from '../search/search-values.js';
import { resourceBody } from './request-body.js';
import type { SubscriptionRouteDeps } from './subscription-deps.js';
import { withSubscriptionErrors } from './subscription-fhir-error.js';
import { secretHeaders, withoutSecret, withSecret } from './webhook-secret.js';

/** `Subscription.status` codes (http://hl7.org/fhir/R4/valueset-subscription-status.html). */
/**
 * The statuses given (a search's `status` or `$status`'s), checked.
 * @throws FhirError 400 naming `status` when one is not a subscription status
 */
export function statusValues(values: readonly string[]): SubscriptionStatus[] {
  return values.map((value) => {
    if (!isSubscriptionStatus(value)) {
      throw FhirError.of(400, 'value', `status must be one of ${SUBSCRIPTION_STATUSES.join(', ')}`, {
        expression: 'status',
      });
    }
    return value;
  });
}

/** `POST [base]/Subscription`: 201 with Location, ETag and the resource, which carries the secret this once. */
export function createSubscriptionInteraction(
  ctx: FhirRequestContext,
  deps: InteractionDeps,
  subscriptions: SubscriptionRouteDeps,
  request: RoutedFhirRequest,
): Promise<InteractionResult> {
  return audited(ctx, deps, 'create', 'Subscription', async () => {
    const resource = withoutSecret(resourceBody<BackportSubscription>(request, 'Subscription'));
    authorizeContent(ctx, deps, resource);
    const created = await withSubscriptionErrors(() =>
      createSubscription(ctx.store, ctx.tenant.id, resource, {
        policy: subscriptions.policy,
        now: subscriptions.now?.(),
        owner: ctx.client?.id,
      }),
    );
    subscriptions.wake?.();
    const stored = created.resource;
    return {
      status: 201,
      body: withSecret(stored.resource as BackportSubscription, created.secret),
      headers: {
        ...versionHeaders(stored),
        Location: `${deps.baseUrl(ctx)}/Subscription/${stored.id}/_history/${stored.versionId}`,
        ...secretHeaders(created.secret),
      },
      resourceIds: [stored.id],
    };
  });
}

/** `GET [base]/Subscription/[id]`: 404 unknown, 410 deleted, 304 on a matching `If-None-Match`. */
export function readSubscriptionInteraction(
  ctx: FhirRequestContext,
  deps: InteractionDeps,
  id: string,
  ifNoneMatch: string | undefined,
): Promise<InteractionResult> {
  return audited(ctx, deps, 'read', 'Subscription', async () => {
    const stored = await storedSubscription(ctx, id);
    const headers = versionHeaders(stored);
    if (matchesIfNoneMatch(ifNoneMatch, stored.versionId)) return { status: 304, headers, resourceIds: [id] };
    return { status: 200, body: stored.resource, headers, resourceIds: [id] };
  });
}

/**
 * `GET [base]/Subscription?…`: `_id`, `status`, `url` (the channel endpoint) and `criteria` (the topic
 * canonical), each a comma list ORed, parameters ANDed; one page with every match (a tenant has few). Unknown
 * parameters are ignored with a warning entry, or a 400 under `Prefer: handling=strict`.
 */
export function searchSubscriptionsInteraction(
  ctx: FhirRequestContext,
  deps: InteractionDeps,
  params: ReadonlyArray<readonly [string, string]>,
  strict: boolean,
): Promise<InteractionResult> {
  return audited(ctx, deps, 'search', 'Subscription', async () => {
    const criteria = new Map<SubscriptionSearchParameter, string[][]>();
    const warnings: OperationOutcomeIssue[] = [];
    const names: string[] = [];
    for (const [name, value] of params) {
      if (name === '_format' || name === '_pretty' || LIST_PAGE_PARAMETERS.has(name)) continue;
      if (!isSubscriptionSearchParameter(name)) {
        if (strict) {
          throw FhirError.of(400, 'not-supported', `unknown search parameter ${name}`, { expression: name });
        }
        warnings.push({
          severity: 'warning',
          code: 'not-supported',
          diagnostics: `unknown search parameter ${name}; ignored`,
          expression: [name],
        });
        continue;
      }
      const values = value.split(',').map((v) => v.trim());
      if (name === 'status') statusValues(values);
      criteria.set(name, [...(criteria.get(name) ?? []), values]);
      if (!names.includes(name)) names.push(name);
    }
    const matches: Resource[] = (
      await searchSubscriptions(ctx.store, ctx.tenant.id, criteria, subscriptionOwner(ctx))
    ).map((stored) => stored.resource);
    const base = deps.baseUrl(ctx);
    const { page, links } = listPage(matches, { base, path: 'Subscription', params }, warnings);
    const body = searchsetBundle({
      base,
      matches: page,
      included: [],
      warnings,
      total: matches.length,
      links,
    });
    return { status: 200, body, resourceIds: page.map((r) => r.id ?? ''), parameters: names };
  });
}

/**
 * `PUT [base]/Subscription/[id]`: replaces the subscription (no update-as-create). `status: off` pauses it;
 * `requested` or `active` on an `off`/`error` one switches it back on, with a new handshake and catch-up from
 * its last delivered event. `If-Match: W/"n"` must name the current version (412 otherwise).
 */
export function updateSubscriptionInteraction(
  ctx: FhirRequestContext,
  deps: InteractionDeps,
  subscriptions: SubscriptionRouteDeps,
  id: string,
  request: RoutedFhirRequest,
): Promise<InteractionResult> {
  return audited(ctx, deps, 'update', 'Subscription', async () => {
    if (!FHIR_ID.test(id)) throw notFound(`Subscription/${id}`);
    const resource = withoutSecret(resourceBody<BackportSubscription>(request, 'Subscription'));
    if (resource.id !== id) {
      throw FhirError.of(400, 'invalid', `the resource's id must be ${id}, the id in the URL`, {
        expression: 'Subscription.id',
      });
    }
    const ifMatchVersion = parseIfMatch(request.headers['if-match']);
    await storedSubscription(ctx, id);
    authorizeContent(ctx, deps, resource);
    const view = await withSubscriptionErrors(() =>
      updateSubscription(ctx.store, ctx.tenant.id, id, resource, {
        policy: subscriptions.policy,
        now: subscriptions.now?.(),
        ifMatchVersion,
      }),
    );
    if (view.subscription.status === 'requested') subscriptions.wake?.();
    return {
      status: 200,
      body: view.resource.resource,
      headers: versionHeaders(view.resource),
      resourceIds: [id],
    };
  });
}

/** `DELETE [base]/Subscription/[id]`: 204; deliveries stop and its queue is dropped. Deleting twice is a 204 too. */
export function deleteSubscriptionInteraction(
  ctx: FhirRequestContext,
  deps: InteractionDeps,
  subscriptions: SubscriptionRouteDeps,
  id: string,
): Promise<InteractionResult> {
  return audited(ctx, deps, 'delete', 'Subscription', async () => {
    if (!FHIR_ID.test(id)) throw notFound(`Subscription/${id}`);
    const live = await readResource(ctx.store, ctx.tenant.id, 'Subscription', id);
    if (live && !live.deleted) await requireOwnSubscription(ctx, id);
    const deleted = await deleteSubscription(ctx.store, ctx.tenant.id, id, { now: subscriptions.now?.() });
    if (!deleted) {
      const stored = await readResource(ctx.store, ctx.tenant.id, 'Subscription', id);
      if (!stored?.deleted) throw notFound(`Subscription/${id}`);
    }
    return { status: 204, resourceIds: [id] };
  });
}

/** The stored, live Subscription `id`: a 404 when there never was one, a 410 when it was deleted. */
export async function storedSubscription(ctx: FhirRequestContext, id: string) {
  if (!FHIR_ID.test(id)) throw notFound(`Subscription/${id}`);
  const stored = await readResource(ctx.store, ctx.tenant.id, 'Subscription', id);
  if (!stored) throw notFound(`Subscription/${id}`);
  if (stored.deleted) throw gone('Subscription', id);
  await requireOwnSubscription(ctx, id);
  return stored;
}

/** A `full-resource` subscription needs read access to what it will receive (`payload-access.ts` decides). */
function authorizeContent(
  ctx: FhirRequestContext,
  deps: InteractionDeps,
  resource: BackportSubscription,
): void {
  const resourceType = readAccessNeeded(resource);
  if (resourceType) deps.access.authorize(ctx, resourceType, 'read');
}

/** The version an `If-Match` header names (`W/"3"` or `"3"`); undefined without one or for `*`. */
function parseIfMatch(header: string | undefined): number | undefined {
  if (header === undefined || header.trim() === '*') return undefined;
  const match = /^\s*(?:W\/)?"(\d{1,15})"\s*$/.exec(header);
  if (!match) {
    throw FhirError.of(400, 'invalid', 'If-Match must be an ETag such as W/"3"', { expression: 'If-Match' });
  }
  return Number(match[1]);
}
