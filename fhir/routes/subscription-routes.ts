/**
 * The webhook surface of the FHIR facade (DESIGN.md section 6; standards.md 4.2 and 5), as routes for
 * `createFhirRouter({ routes })`, under `/fhir/{tenant}/`:
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
 * each), and `Basic` for topics. Every route authenticates, authorizes and audits through the facade kit.
 */
import type { Request, Router } from 'express';
import type { FacadeRouteKit } from '../fhir-router.js';
import { FhirError } from '../operation-outcome.js';
import { deadLettersOperation, redriveOperation } from '../operations/subscription-dead-letters.js';
import { subscriptionEventsOperation } from '../operations/subscription-events.js';
import { rotateSecretOperation } from '../operations/subscription-rotate-secret.js';
import { subscriptionStatusInstance, subscriptionStatusType } from '../operations/subscription-status.js';
import { prefersStrictHandling, queryParams } from '../request-context.js';
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

/** Registers the Subscription and topic routes; pass the result in `createFhirRouter({ routes })`. */
export function subscriptionRoutes(
  deps: SubscriptionRouteDeps,
): (router: Router, kit: FacadeRouteKit) => void {
  return (router, kit) => {
    const d = kit.deps;
    const id = (req: Request) => String(req.params.id);
    const json = { body: 'json' } as const;

    router.post(
      '/:tenant/Subscription',
      ...kit.handler((ctx, req) => createSubscriptionInteraction(ctx, d, deps, req), json),
    );
    router.get(
      '/:tenant/Subscription',
      ...kit.handler((ctx, req) =>
        searchSubscriptionsInteraction(ctx, d, queryParams(req), prefersStrictHandling(req)),
      ),
    );
    for (const method of ['get', 'post'] as const) {
      router[method](
        '/:tenant/Subscription/$status',
        ...kit.handler((ctx, req) => subscriptionStatusType(ctx, d, deps, req), json),
      );
      router[method](
        '/:tenant/Subscription/:id/$status',
        ...kit.handler((ctx, req) => subscriptionStatusInstance(ctx, d, deps, id(req), req), json),
      );
      router[method](
        '/:tenant/Subscription/:id/$events',
        ...kit.handler((ctx, req) => subscriptionEventsOperation(ctx, d, deps, id(req), req), json),
      );
    }
    router.post(
      '/:tenant/Subscription/:id/$rotate-secret',
      ...kit.handler((ctx, req) => rotateSecretOperation(ctx, d, deps, id(req), req), json),
    );
    router.get(
      '/:tenant/Subscription/:id/$dead-letters',
      ...kit.handler((ctx, req) => deadLettersOperation(ctx, d, id(req), req)),
    );
    router.post(
      '/:tenant/Subscription/:id/$redrive',
      ...kit.handler((ctx, req) => redriveOperation(ctx, d, deps, id(req), req), json),
    );
    router.get(
      '/:tenant/Subscription/:id',
      ...kit.handler((ctx, req) => readSubscriptionInteraction(ctx, d, id(req), req.get('if-none-match'))),
    );
    router.put(
      '/:tenant/Subscription/:id',
      ...kit.handler((ctx, req) => updateSubscriptionInteraction(ctx, d, deps, id(req), req), json),
    );
    router.delete(
      '/:tenant/Subscription/:id',
      ...kit.handler((ctx, req) => deleteSubscriptionInteraction(ctx, d, deps, id(req))),
    );

    router.get(
      '/:tenant/Basic',
      ...kit.handler((ctx, req) =>
        searchTopicsInteraction(ctx, d, deps, queryParams(req), prefersStrictHandling(req)),
      ),
    );
    router.get(
      '/:tenant/Basic/:id',
      ...kit.handler((ctx, req) => readTopicInteraction(ctx, d, deps, id(req))),
    );
    router.get(['/:tenant/SubscriptionTopic', '/:tenant/SubscriptionTopic/:id'], () => {
      throw subscriptionTopicIsR5();
    });
    // Anything else under these types is an interaction this server does not offer, not an unknown type.
    router.all(['/:tenant/Subscription/*rest', '/:tenant/Basic/*rest'], (req) => {
      throw FhirError.of(
        405,
        'not-supported',
        `${req.method} ${req.path} is not supported; see the CapabilityStatement for what Subscription and Basic offer`,
      );
    });
  };
}
