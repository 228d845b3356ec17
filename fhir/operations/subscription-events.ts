/**
 * `$events` (standards.md 4.2; OperationDefinition `backport-subscription-events`):
 * `GET|POST [base]/Subscription/[id]/$events?eventsSinceNumber=&eventsUntilNumber=&content=` replays past
 * events of one subscription by event number, delivered or not, as a notification Bundle (`type = history`,
 * status `type = query-event`). At most {@link EVENTS_PER_CALL} events, the oldest of the range, per call:
 * continue from the last event number + 1. `content` (`empty | id-only | full-resource`) overrides the
 * subscription's payload level; `full-resource` needs read access to the topic's focus type, and every resource
 * it returns is recorded in the audit trail under its own type.
 */
import type { Bundle } from '@medplum/fhirtypes';
import type { RoutedFhirRequest } from '../fhir-request.js';
import {
  PAYLOAD_CONTENTS,
  type PayloadContent,
} from '../../src/webhooks/subscriptions/subscription-resource.js';
import { subscriptionEvents } from '../../src/webhooks/subscriptions/subscription-status.js';
import { readSubscription } from '../../src/webhooks/subscriptions/subscription-store.js';
import { topicByUrl } from '../../src/webhooks/subscriptions/topics.js';
import type { FhirRequestContext } from '../access.js';
import type { InteractionDeps, InteractionResult } from '../interactions/interaction-deps.js';
import { FhirError, notFound } from '../operation-outcome.js';
import { integerInput, singleInput } from '../subscriptions/request-body.js';
import { inParameter, outParameter, type OperationSpec } from './operation-definition.js';
import type { SubscriptionRouteDeps } from '../subscriptions/subscription-deps.js';
import { subscriptionOperation } from '../subscriptions/subscription-operation.js';

/** The most events one `$events` call returns. */
export const EVENTS_PER_CALL = 100;

/** The backport IG's `$events` (https://hl7.org/fhir/uv/subscriptions-backport/OperationDefinition-backport-subscription-events.html). */
export const SUBSCRIPTION_EVENTS_DEFINITION: OperationSpec = {
  id: 'backport-subscription-events',
  url: 'http://hl7.org/fhir/uv/subscriptions-backport/OperationDefinition/backport-subscription-events',
  name: 'SubscriptionEvents',
  title: 'Subscription events',
  code: 'events',
  resource: ['Subscription'],
  system: false,
  type: false,
  instance: true,
  affectsState: false,
  description: `Replays the events of a subscription by event number, at most ${EVENTS_PER_CALL} per call.`,
  parameter: [
    inParameter('eventsSinceNumber', '0..1', 'string', 'The first event number to return (a whole number).'),
    inParameter('eventsUntilNumber', '0..1', 'string', 'The last event number to return (a whole number).'),
    inParameter(
      'content',
      '0..1',
      'code',
      "empty, id-only or full-resource; default the subscription's own.",
    ),
    outParameter('return', '1..1', 'Bundle', 'A query-event subscription-notification Bundle.'),
  ],
};

export function subscriptionEventsOperation(
  ctx: FhirRequestContext,
  deps: InteractionDeps,
  subscriptions: SubscriptionRouteDeps,
  id: string,
  request: RoutedFhirRequest,
): Promise<InteractionResult> {
  const call = {
    interaction: 'read',
    definition: SUBSCRIPTION_EVENTS_DEFINITION,
    id,
    request,
    parse: eventsInputs,
  } as const;
  return subscriptionOperation(ctx, deps, call, async (parsed, _stored, inputs) => {
    const { eventsSinceNumber, eventsUntilNumber, content } = parsed;
    const view = await readSubscription(ctx.store, ctx.tenant.id, id);
    if (!view) throw notFound(`Subscription/${id}`);
    const effective = content ?? view.subscription.payloadContent;
    const focusType = topicByUrl(view.subscription.topic)?.focusType;
    if (effective === 'full-resource' && focusType) deps.access.authorize(ctx, focusType, 'read');

    const body = await subscriptionEvents(ctx.store, ctx.tenant.id, id, {
      baseUrl: deps.baseUrl(ctx),
      eventsSinceNumber,
      eventsUntilNumber,
      content,
      limit: EVENTS_PER_CALL,
      now: subscriptions.now?.(),
    });
    if (!body) throw notFound(`Subscription/${id}`);
    await auditEmbedded(ctx, deps, body);
    return { status: 200, body, resourceIds: [id], parameters: [...inputs.keys()] };
  });
}

/** The `$events` inputs, checked. */
function eventsInputs(inputs: Map<string, string[]>) {
  const content = singleInput(inputs, 'content');
  if (content !== undefined && !(PAYLOAD_CONTENTS as readonly string[]).includes(content)) {
    throw FhirError.of(400, 'value', `content must be one of ${PAYLOAD_CONTENTS.join(', ')}`, {
      expression: 'content',
    });
  }
  return {
    eventsSinceNumber: integerInput(inputs, 'eventsSinceNumber'),
    eventsUntilNumber: integerInput(inputs, 'eventsUntilNumber'),
    content: content as PayloadContent | undefined,
  };
}

/** One audit record per resource type the Bundle carries in full (PHI is never returned unaudited). */
async function auditEmbedded(ctx: FhirRequestContext, deps: InteractionDeps, bundle: Bundle): Promise<void> {
  const byType = new Map<string, string[]>();
  for (const entry of (bundle.entry ?? []).slice(1)) {
    const resource = entry.resource;
    if (!resource) continue;
    byType.set(resource.resourceType, [...(byType.get(resource.resourceType) ?? []), resource.id ?? '']);
  }
  for (const [resourceType, resourceIds] of byType)
    await deps.audit.record(ctx, { action: 'read', resourceType, resourceIds, status: 200 });
}
