/**
 * `$status` (standards.md 4.2; OperationDefinition `backport-subscription-status`, SHALL): a searchset Bundle
 * with one SubscriptionStatus `Parameters` (`type = query-status`) per subscription.
 * - instance level, `GET|POST [base]/Subscription/[id]/$status`: that subscription (404 unknown, 410 deleted);
 * - type level, `GET|POST [base]/Subscription/$status?id=…&status=…`: every subscription of the tenant
 *   matching any `id` and any `status` (both 0..*, repeated or comma-separated), all when omitted.
 * Authorized as a read (instance) or a search (type) of Subscription.
 */
import { subscriptionOwner } from '../subscriptions/subscription-owner.js';
import type { Bundle, Parameters } from '@medplum/fhirtypes';
import type { RoutedFhirRequest } from '../fhir-request.js';
import { subscriptionStatusBundle } from '../../src/webhooks/subscriptions/subscription-status.js';
import type { FhirRequestContext } from '../access.js';
import { audited, type InteractionDeps, type InteractionResult } from '../interactions/interaction-deps.js';
import { listInput } from '../subscriptions/request-body.js';
import {
  inParameter,
  outParameter,
  readOperationInputs,
  type OperationSpec,
} from './operation-definition.js';
import type { SubscriptionRouteDeps } from '../subscriptions/subscription-deps.js';
import { statusValues } from '../subscriptions/subscription-interactions.js';
import { subscriptionOperation } from '../subscriptions/subscription-operation.js';

/** The backport IG's `$status` (https://hl7.org/fhir/uv/subscriptions-backport/OperationDefinition-backport-subscription-status.html). */
export const SUBSCRIPTION_STATUS_DEFINITION: OperationSpec = {
  id: 'backport-subscription-status',
  url: 'http://hl7.org/fhir/uv/subscriptions-backport/OperationDefinition/backport-subscription-status',
  name: 'SubscriptionStatus',
  title: 'Subscription status',
  code: 'status',
  resource: ['Subscription'],
  system: false,
  type: true,
  instance: true,
  affectsState: false,
  description:
    'The status of subscriptions: GET|POST Subscription/[id]/$status, or Subscription/$status?id=&status= for several.',
  parameter: [
    inParameter('id', '0..*', 'id', 'Type level only: the subscriptions to report on (a comma list too).'),
    inParameter('status', '0..*', 'code', 'Type level only: report on subscriptions in these statuses.'),
    outParameter(
      'return',
      '1..1',
      'Bundle',
      'A subscription-status Bundle, one SubscriptionStatus Parameters each.',
    ),
  ],
};

/** `[base]/Subscription/[id]/$status`. */
export function subscriptionStatusInstance(
  ctx: FhirRequestContext,
  deps: InteractionDeps,
  subscriptions: SubscriptionRouteDeps,
  id: string,
  request: RoutedFhirRequest,
): Promise<InteractionResult> {
  const call = {
    interaction: 'read',
    definition: SUBSCRIPTION_STATUS_DEFINITION,
    id,
    request,
    only: [],
  } as const;
  return subscriptionOperation(ctx, deps, call, async () => {
    const body = await subscriptionStatusBundle(ctx.store, ctx.tenant.id, {
      baseUrl: deps.baseUrl(ctx),
      ids: [id],
      now: subscriptions.now?.(),
    });
    return { status: 200, body, resourceIds: subscriptionIds(body) };
  });
}

/** `[base]/Subscription/$status?id=…&status=…`. */
export function subscriptionStatusType(
  ctx: FhirRequestContext,
  deps: InteractionDeps,
  subscriptions: SubscriptionRouteDeps,
  request: RoutedFhirRequest,
): Promise<InteractionResult> {
  return audited(ctx, deps, 'search', 'Subscription', async () => {
    const inputs = readOperationInputs(SUBSCRIPTION_STATUS_DEFINITION, request);
    const given = listInput(inputs, 'status');
    const statuses = given && statusValues(given);
    const body = await subscriptionStatusBundle(ctx.store, ctx.tenant.id, {
      baseUrl: deps.baseUrl(ctx),
      ids: listInput(inputs, 'id'),
      statuses,
      now: subscriptions.now?.(),
      owner: subscriptionOwner(ctx),
    });
    return {
      status: 200,
      body,
      resourceIds: subscriptionIds(body),
      parameters: [...inputs.keys()],
    };
  });
}

/** The ids of the subscriptions a status Bundle reports on (for the audit trail). */
function subscriptionIds(bundle: Bundle<Parameters>): string[] {
  return (bundle.entry ?? []).flatMap((entry) => {
    const reference = entry.resource?.parameter?.find((p) => p.name === 'subscription')?.valueReference;
    const id = reference?.reference?.split('/').pop();
    return id ? [id] : [];
  });
}
