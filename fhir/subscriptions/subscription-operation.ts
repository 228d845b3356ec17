/**
 * The opening every instance-level Subscription operation shares (`$status`, `$events`, `$dead-letters`,
 * `$redrive`, `$rotate-secret`): audited as `interaction` on Subscription, inputs read against the operation's
 * definition and checked (`call.parse`, before the lookup: a bad input is a 400 even for an unknown id), then the
 * subscription must exist in the tenant (404 unknown, 410 deleted). The operation itself is `run`.
 */
import type { Subscription } from '@medplum/fhirtypes';
import type { StoredResource } from '../../src/store/resource-store.js';
import type { FhirRequestContext, Interaction } from '../access.js';
import type { RoutedFhirRequest } from '../fhir-request.js';
import {
  audited,
  type AuditedResult,
  type InteractionDeps,
  type InteractionResult,
} from '../interactions/interaction-deps.js';
import { readOperationInputs, type OperationSpec } from '../operations/operation-definition.js';
import { storedSubscription } from './subscription-interactions.js';

/** What {@link subscriptionOperation} opens. */
export interface SubscriptionOperationCall<P> {
  interaction: Interaction;
  definition: OperationSpec;
  id: string;
  request: RoutedFhirRequest;
  /** Only these inputs are accepted (default: every `in` parameter of the definition). */
  only?: readonly string[];
  /** Checks and converts the inputs (400 on a bad one); default none. */
  parse?: (inputs: Map<string, string[]>) => P;
}

/** Opens a Subscription instance operation as the module comment says, then runs it. */
export function subscriptionOperation<P = undefined>(
  ctx: FhirRequestContext,
  deps: InteractionDeps,
  call: SubscriptionOperationCall<P>,
  run: (
    parsed: P,
    stored: StoredResource<Subscription>,
    inputs: Map<string, string[]>,
  ) => Promise<AuditedResult>,
): Promise<InteractionResult> {
  return audited(ctx, deps, call.interaction, 'Subscription', async () => {
    const inputs = readOperationInputs(
      call.definition,
      call.request,
      call.only === undefined ? {} : { only: call.only },
    );
    const parsed = call.parse?.(inputs) as P;
    const stored = await storedSubscription(ctx, call.id);
    return run(parsed, stored, inputs);
  });
}
