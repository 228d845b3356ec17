/**
 * How a refused subscription request is answered (DESIGN.md section 6): a {@link SubscriptionError} from
 * `src/webhooks` becomes a FhirError whose OperationOutcome keeps the error's issue code and FHIRPath
 * `expression`. Status codes follow https://hl7.org/fhir/R4/http.html#create: 400 when the resource is not
 * even a well-formed Subscription, 422 when it breaks the backport profile or the server's rules (unknown
 * topic, filter the topic does not offer, endpoint refused by the SSRF policy), 404 for an unknown id and 412
 * when `If-Match` names a version that is not the current one.
 */
import {
  isSubscriptionError,
  type SubscriptionError,
} from '../../src/webhooks/subscriptions/subscription-error.js';
import { FhirError } from '../operation-outcome.js';

/** The FhirError for `error`. */
export function subscriptionFhirError(error: SubscriptionError): FhirError {
  const expression = error.expression;
  switch (error.code) {
    case 'not-found':
      return FhirError.of(404, 'not-found', error.message, { expression });
    case 'conflict':
      return FhirError.of(412, 'conflict', error.message, { expression, detailCode: 'version-conflict' });
    case 'invalid':
      return FhirError.of(400, 'invalid', error.message, { expression });
    case 'security':
      return FhirError.of(422, 'security', error.message, { expression, detailCode: 'endpoint-refused' });
    case 'required':
    case 'value':
    case 'not-supported':
      return FhirError.of(422, error.code, error.message, { expression });
  }
}

/** Runs `work`, turning a SubscriptionError it throws into the matching FhirError. */
export async function withSubscriptionErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isSubscriptionError(error)) throw subscriptionFhirError(error);
    throw error;
  }
}
