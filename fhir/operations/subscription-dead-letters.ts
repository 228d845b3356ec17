/**
 * Dead letters (DESIGN.md section 6: "after exhausting retries an event is dead-lettered and visible"), as two
 * Switchboard operations on one subscription:
 * - `GET [base]/Subscription/[id]/$dead-letters`: a `Parameters` with one `dead-letter` per event that ran out
 *   of retries (oldest first, at most 100): `event-number`, `event-type`, `focus`, `attempts`, `last-status`,
 *   `last-error`, `created`, `dead-lettered`. Read access to Subscription.
 * - `POST [base]/Subscription/[id]/$redrive` (inputs `event-number` 0..*; all when omitted): puts them back in
 *   the queue, due now, with a fresh retry window; output `redriven` (how many). Update access.
 * Re-enabling a switched-off subscription (PUT with `status: requested`) redrives by itself what came after
 * its last delivered event.
 */
import type { Parameters, ParametersParameter } from '@medplum/fhirtypes';
import type { RoutedFhirRequest } from '../fhir-request.js';
import { listDeadLetters, redrive } from '../../src/webhooks/delivery/outbox-dead-letters.js';
import type { FhirRequestContext } from '../access.js';
import type { InteractionDeps, InteractionResult } from '../interactions/interaction-deps.js';
import { FhirError } from '../operation-outcome.js';
import { listInput } from '../subscriptions/request-body.js';
import {
  SWITCHBOARD_OPERATIONS,
  inParameter,
  outParameter,
  type OperationSpec,
} from './operation-definition.js';

/** Switchboard's `$dead-letters`: the events of a subscription that ran out of retries. */
export const DEAD_LETTERS_DEFINITION: OperationSpec = {
  id: 'subscription-dead-letters',
  url: `${SWITCHBOARD_OPERATIONS}subscription-dead-letters`,
  name: 'SubscriptionDeadLetters',
  title: 'Dead letters of a subscription',
  code: 'dead-letters',
  resource: ['Subscription'],
  system: false,
  type: false,
  instance: true,
  affectsState: false,
  description: 'The events of a subscription that ran out of delivery attempts, oldest first, at most 100.',
  parameter: [
    outParameter('dead-letter', '0..*', undefined, 'One event that was not delivered.', [
      outParameter('event-number', '1..1', 'string', 'The event number.'),
      outParameter('event-type', '1..1', 'code', 'What happened.'),
      outParameter('focus', '0..1', 'Reference', 'The resource the event is about.'),
      outParameter('attempts', '1..1', 'integer', 'Delivery attempts made.'),
      outParameter('last-status', '0..1', 'integer', 'HTTP status of the last attempt.'),
      outParameter('last-error', '0..1', 'string', 'Error of the last attempt.'),
      outParameter('created', '1..1', 'instant', 'When the event was queued.'),
      outParameter('dead-lettered', '1..1', 'instant', 'When it ran out of attempts.'),
    ]),
  ],
};

/** Switchboard's `$redrive`: queue dead letters for delivery again. */
export const REDRIVE_DEFINITION: OperationSpec = {
  id: 'subscription-redrive',
  url: `${SWITCHBOARD_OPERATIONS}subscription-redrive`,
  name: 'SubscriptionRedrive',
  title: 'Redrive dead letters of a subscription',
  code: 'redrive',
  resource: ['Subscription'],
  system: false,
  type: false,
  instance: true,
  affectsState: true,
  description: 'Queues dead letters of a subscription for delivery again: the given event numbers, or all.',
  parameter: [
    inParameter(
      'event-number',
      '0..*',
      'string',
      'Event numbers to redrive (whole numbers, a comma list too); default all.',
    ),
    outParameter('redriven', '1..1', 'integer', 'How many events were queued again.'),
  ],
};
import type { SubscriptionRouteDeps } from '../subscriptions/subscription-deps.js';
import { subscriptionOperation } from '../subscriptions/subscription-operation.js';

/** `GET [base]/Subscription/[id]/$dead-letters`. */
export function deadLettersOperation(
  ctx: FhirRequestContext,
  deps: InteractionDeps,
  id: string,
  request: RoutedFhirRequest,
): Promise<InteractionResult> {
  const call = { interaction: 'read', definition: DEAD_LETTERS_DEFINITION, id, request } as const;
  return subscriptionOperation(ctx, deps, call, async () => {
    const letters = await listDeadLetters(ctx.store, ctx.tenant.id, { subscriptionId: id, limit: 100 });
    const parameter = letters.map((letter): ParametersParameter => {
      const part: ParametersParameter[] = [
        { name: 'event-number', valueString: String(letter.eventNumber) },
        { name: 'event-type', valueCode: letter.eventType },
      ];
      if (letter.focus !== null) part.push({ name: 'focus', valueReference: { reference: letter.focus } });
      part.push({ name: 'attempts', valueInteger: letter.attempts });
      if (letter.lastStatus !== null) part.push({ name: 'last-status', valueInteger: letter.lastStatus });
      if (letter.lastError !== null) part.push({ name: 'last-error', valueString: letter.lastError });
      part.push(
        { name: 'created', valueInstant: letter.createdAt },
        { name: 'dead-lettered', valueInstant: letter.deadLetteredAt },
      );
      return { name: 'dead-letter', part };
    });
    // FHIR JSON has no empty arrays.
    const body: Parameters = { resourceType: 'Parameters', ...(parameter.length > 0 ? { parameter } : {}) };
    return { status: 200, body, resourceIds: [id] };
  });
}

/** `POST [base]/Subscription/[id]/$redrive`. */
export function redriveOperation(
  ctx: FhirRequestContext,
  deps: InteractionDeps,
  subscriptions: SubscriptionRouteDeps,
  id: string,
  request: RoutedFhirRequest,
): Promise<InteractionResult> {
  const call = {
    interaction: 'update',
    definition: REDRIVE_DEFINITION,
    id,
    request,
    parse: eventNumbersInput,
  } as const;
  return subscriptionOperation(ctx, deps, call, async (eventNumbers, _stored, inputs) => {
    const redriven = await redrive(ctx.store, ctx.tenant.id, {
      subscriptionId: id,
      eventNumbers,
      now: subscriptions.now?.(),
    });
    if (redriven > 0) subscriptions.wake?.();
    const body: Parameters = {
      resourceType: 'Parameters',
      parameter: [{ name: 'redriven', valueInteger: redriven }],
    };
    return { status: 200, body, resourceIds: [id], parameters: [...inputs.keys()] };
  });
}

/** The `event-number` inputs as numbers (undefined when none was given). */
function eventNumbersInput(inputs: Map<string, string[]>): number[] | undefined {
  return listInput(inputs, 'event-number')?.map((value) => {
    if (!/^\d{1,10}$/.test(value)) {
      throw FhirError.of(400, 'value', 'event-number must be a whole number', {
        expression: 'event-number',
      });
    }
    return Number(value);
  });
}
