/**
 * The webhook surface of the FHIR facade (DESIGN.md section 6; standards.md 4.2 and 5), as a route table for
 * `createFhirHandler({ routes })`, under `/fhir/{tenant}/`:
 *
 * | route | what |
 * |---|---|
 * | `POST Subscription` | create (backport profile); 201, the `whsec_` secret this once |
 * | `GET Subscription?_id=&status=&url=&criteria=` | search |
 * | `GET / PUT / DELETE Subscription/[id]` | read, update (If-Match; status off = pause, requested = re-enable), delete |
 * | `GET|POST Subscription/$status`, `Subscription/[id]/$status` | status Bundles |
 * | `GET|POST Subscription/[id]/$events` | replay by event number |
 * | `POST Subscription/[id]/$rotate-secret` | new secret, overlap window |
 * | `GET Subscription/[id]/$dead-letters`, `POST Subscription/[id]/$redrive` | dead letters |
 * | `GET Basic?code=SubscriptionTopic`, `GET Basic/[topic id]` | topics, the R4 backport way |
 *
 * Scopes are those of `Subscription` (`system/Subscription.cruds`; operations need r, s or u as documented on
 * each), and `Basic` for topics. Every route authorizes and audits (the HTTP edge authenticates first).
 */
import { prefersStrictHandling, type RoutedFhirRequest } from '../fhir-request.js';
import type { FhirRoute, FhirRouteModule } from '../fhir-route.js';
import { FhirError } from '../operation-outcome.js';
import {
  DEAD_LETTERS_DEFINITION,
  REDRIVE_DEFINITION,
  deadLettersOperation,
  redriveOperation,
} from '../operations/subscription-dead-letters.js';
import type { OperationSpec } from '../operations/operation-definition.js';
import {
  SUBSCRIPTION_EVENTS_DEFINITION,
  subscriptionEventsOperation,
} from '../operations/subscription-events.js';
import { ROTATE_SECRET_DEFINITION, rotateSecretOperation } from '../operations/subscription-rotate-secret.js';
import {
  SUBSCRIPTION_STATUS_DEFINITION,
  subscriptionStatusInstance,
  subscriptionStatusType,
} from '../operations/subscription-status.js';
import type { SubscriptionRouteDeps } from '../subscriptions/subscription-deps.js';
import {
  createSubscriptionInteraction,
  deleteSubscriptionInteraction,
  readSubscriptionInteraction,
  searchSubscriptionsInteraction,
  updateSubscriptionInteraction,
} from '../subscriptions/subscription-interactions.js';
import {
  readTopicInteraction,
  searchTopicsInteraction,
  subscriptionTopicIsR5,
} from '../subscriptions/topic-interactions.js';

export type { SubscriptionRouteDeps } from '../subscriptions/subscription-deps.js';
export {
  SUBSCRIPTION_SERVER_INSTANTIATES,
  subscriptionCapabilityResources,
} from '../subscriptions/subscription-capability.js';

/** The OperationDefinitions of the Subscription operations (serve with `operationDefinitionRoutes`). */
export const SUBSCRIPTION_OPERATION_DEFINITIONS: readonly OperationSpec[] = [
  SUBSCRIPTION_STATUS_DEFINITION,
  SUBSCRIPTION_EVENTS_DEFINITION,
  ROTATE_SECRET_DEFINITION,
  DEAD_LETTERS_DEFINITION,
  REDRIVE_DEFINITION,
];

/** The Subscription and topic routes; pass the result in `createFhirHandler({ routes })`. */
export function subscriptionRoutes(deps: SubscriptionRouteDeps): FhirRouteModule {
  return (d) => {
    const id = (request: RoutedFhirRequest) => String(request.params.id);
    const strict = prefersStrictHandling;
    const getOrPost = ['GET', 'POST'] as const;
    return [
      {
        method: 'POST',
        path: 'Subscription',
        body: 'json',
        handle: (r, ctx) => createSubscriptionInteraction(ctx, d, deps, r),
      },
      {
        method: 'GET',
        path: 'Subscription',
        handle: (r, ctx) => searchSubscriptionsInteraction(ctx, d, r.query, strict(r)),
      },
      {
        method: getOrPost,
        path: 'Subscription/$status',
        body: 'json',
        handle: (r, ctx) => subscriptionStatusType(ctx, d, deps, r),
      },
      {
        method: getOrPost,
        path: 'Subscription/:id/$status',
        body: 'json',
        handle: (r, ctx) => subscriptionStatusInstance(ctx, d, deps, id(r), r),
      },
      {
        method: getOrPost,
        path: 'Subscription/:id/$events',
        body: 'json',
        handle: (r, ctx) => subscriptionEventsOperation(ctx, d, deps, id(r), r),
      },
      {
        method: 'POST',
        path: 'Subscription/:id/$rotate-secret',
        body: 'json',
        handle: (r, ctx) => rotateSecretOperation(ctx, d, deps, id(r), r),
      },
      {
        method: 'GET',
        path: 'Subscription/:id/$dead-letters',
        handle: (r, ctx) => deadLettersOperation(ctx, d, id(r), r),
      },
      {
        method: 'POST',
        path: 'Subscription/:id/$redrive',
        body: 'json',
        handle: (r, ctx) => redriveOperation(ctx, d, deps, id(r), r),
      },
      {
        method: 'GET',
        path: 'Subscription/:id',
        handle: (r, ctx) => readSubscriptionInteraction(ctx, d, id(r), r.headers['if-none-match']),
      },
      {
        method: 'PUT',
        path: 'Subscription/:id',
        body: 'json',
        handle: (r, ctx) => updateSubscriptionInteraction(ctx, d, deps, id(r), r),
      },
      {
        method: 'DELETE',
        path: 'Subscription/:id',
        handle: (r, ctx) => deleteSubscriptionInteraction(ctx, d, deps, id(r)),
      },
      {
        method: 'GET',
        path: 'Basic',
        handle: (r, ctx) => searchTopicsInteraction(ctx, d, deps, r.query, strict(r)),
      },
      { method: 'GET', path: 'Basic/:id', handle: (r, ctx) => readTopicInteraction(ctx, d, deps, id(r)) },
      ...['SubscriptionTopic', 'SubscriptionTopic/:id'].map((path): FhirRoute => ({
        method: 'GET',
        path,
        public: true,
        handle: () => Promise.reject(subscriptionTopicIsR5()),
      })),
      // Anything else under these types is an interaction this server does not offer, not an unknown type.
      ...['Subscription/*rest', 'Basic/*rest'].map((path): FhirRoute => ({
        method: '*',
        path,
        public: true,
        handle: (r) =>
          Promise.reject(
            FhirError.of(
              405,
              'not-supported',
              `${r.method} /${r.tenant}/${r.path} is not supported; see the CapabilityStatement for what Subscription and Basic offer`,
            ),
          ),
      })),
    ];
  };
}
