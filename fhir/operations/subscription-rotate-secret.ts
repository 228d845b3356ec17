/**
 * `POST [base]/Subscription/[id]/$rotate-secret` (Switchboard's own operation; standards.md section 5,
 * "Rotation"): a new `whsec_` signing secret signs from now on, and the previous one keeps signing too (two
 * signatures in `webhook-signature`) until `previous-secret-expires`, so a receiver can switch secrets without
 * a failed verification. The new secret is answered this once: the `secret` output and the
 * `X-Switchboard-Webhook-Secret` header.
 *
 * Input `overlap-seconds` (0 … 7 days; default `webhooks.secretOverlapSeconds`): 0 stops the old secret at once,
 * for a secret that leaked. Authorized as an update of Subscription.
 */
import type { Parameters } from '@medplum/fhirtypes';
import type { RoutedFhirRequest } from '../fhir-request.js';
import { rotateSubscriptionSecret } from '../../src/webhooks/subscriptions/subscription-store.js';
import type { FhirRequestContext } from '../access.js';
import type { InteractionDeps, InteractionResult } from '../interactions/interaction-deps.js';
import { integerInput } from '../subscriptions/request-body.js';
import {
  SWITCHBOARD_OPERATIONS,
  inParameter,
  outParameter,
  type OperationSpec,
} from './operation-definition.js';
import type { SubscriptionRouteDeps } from '../subscriptions/subscription-deps.js';
import { withSubscriptionErrors } from '../subscriptions/subscription-fhir-error.js';
import { subscriptionOperation } from '../subscriptions/subscription-operation.js';
import { secretHeaders } from '../subscriptions/webhook-secret.js';

const MAX_OVERLAP_SECONDS = 7 * 24 * 3600;
const DEFAULT_OVERLAP_SECONDS = 24 * 3600;

/** Switchboard's `$rotate-secret`: a new signing secret, the previous one valid for an overlap. */
export const ROTATE_SECRET_DEFINITION: OperationSpec = {
  id: 'subscription-rotate-secret',
  url: `${SWITCHBOARD_OPERATIONS}subscription-rotate-secret`,
  name: 'SubscriptionRotateSecret',
  title: 'Rotate the signing secret of a subscription',
  code: 'rotate-secret',
  resource: ['Subscription'],
  system: false,
  type: false,
  instance: true,
  affectsState: true,
  description:
    'A new whsec_ signing secret, answered this once (also in the X-Switchboard-Webhook-Secret header); the previous secret keeps signing until previous-secret-expires.',
  parameter: [
    inParameter(
      'overlap-seconds',
      '0..1',
      'unsignedInt',
      `How long the previous secret keeps signing, at most ${MAX_OVERLAP_SECONDS} s; default the configured overlap.`,
    ),
    outParameter('secret', '1..1', 'string', 'The new secret.'),
    outParameter('previous-secret-expires', '1..1', 'instant', 'When the previous secret stops signing.'),
  ],
};

export function rotateSecretOperation(
  ctx: FhirRequestContext,
  deps: InteractionDeps,
  subscriptions: SubscriptionRouteDeps,
  id: string,
  request: RoutedFhirRequest,
): Promise<InteractionResult> {
  const overlap = (inputs: Map<string, string[]>) =>
    integerInput(inputs, 'overlap-seconds', MAX_OVERLAP_SECONDS) ??
    subscriptions.secretOverlapSeconds ??
    DEFAULT_OVERLAP_SECONDS;
  const call = {
    interaction: 'update',
    definition: ROTATE_SECRET_DEFINITION,
    id,
    request,
    parse: overlap,
  } as const;
  return subscriptionOperation(ctx, deps, call, async (overlapSeconds) => {
    const rotated = await withSubscriptionErrors(() =>
      rotateSubscriptionSecret(ctx.store, ctx.tenant.id, id, { overlapSeconds, now: subscriptions.now?.() }),
    );
    const body: Parameters = {
      resourceType: 'Parameters',
      parameter: [
        { name: 'secret', valueString: rotated.secret },
        { name: 'previous-secret-expires', valueInstant: rotated.previousSecretExpiresAt },
      ],
    };
    return { status: 200, body, headers: secretHeaders(rotated.secret), resourceIds: [id] };
  });
}
