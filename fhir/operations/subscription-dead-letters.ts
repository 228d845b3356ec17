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
import { listDeadLetters, redrive } from '../../src/webhooks/delivery-queue.js';
import type { FhirRequestContext } from '../access.js';
import { audited, type InteractionDeps, type InteractionResult } from '../interactions/interaction-deps.js';
import { FhirError } from '../operation-outcome.js';
import { listInput, operationInputs } from '../subscriptions/request-body.js';
import type { SubscriptionRouteDeps } from '../subscriptions/subscription-deps.js';
import { storedSubscription } from '../subscriptions/subscription-interactions.js';

/** `GET [base]/Subscription/[id]/$dead-letters`. */
export function deadLettersOperation(
  ctx: FhirRequestContext,
  deps: InteractionDeps,
  id: string,
  request: RoutedFhirRequest,
): Promise<InteractionResult> {
  return audited(ctx, deps, 'read', 'Subscription', async () => {
    operationInputs(request, request.query, []);
    await storedSubscription(ctx, id);
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
  return audited(ctx, deps, 'update', 'Subscription', async () => {
    const inputs = operationInputs(request, request.query, ['event-number']);
    const eventNumbers = listInput(inputs, 'event-number')?.map((value) => {
      if (!/^\d{1,10}$/.test(value)) {
        throw FhirError.of(400, 'value', 'event-number must be a whole number', {
          expression: 'event-number',
        });
      }
      return Number(value);
    });
    await storedSubscription(ctx, id);
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
