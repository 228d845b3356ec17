/**
 * The FHIR R4 facade's entry: `/fhir/{tenant}/…` (DESIGN.md section 2). One router for all tenants; the tenant
 * segment selects the configuration, an unknown tenant is a 404 OperationOutcome. `metadata` is public; every
 * other route runs `authenticate` first, then its interaction, which checks access and writes the audit record.
 * Every route and the CapabilityStatement come from `SUPPORTED_RESOURCES`.
 */
import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import type { TenantConfig } from '../src/config.js';
import type { Logger } from '../src/logger.js';
import type { Store } from '../src/store/database.js';
import type { AccessControl, AuditSink, FhirRequestContext } from './access.js';
import {
  capabilityStatement,
  type CapabilityContribution,
  type CapabilityOptions,
} from './capability-statement.js';
import { negotiateFormat, sendFhirJson } from './fhir-format.js';
import { historyInstance } from './interactions/history-instance.js';
import { historyType } from './interactions/history-type.js';
import type { InteractionDeps, InteractionResult } from './interactions/interaction-deps.js';
import { read } from './interactions/read.js';
import { search } from './interactions/search.js';
import { vread } from './interactions/vread.js';
import { FhirError, notFound, renderFhirError } from './operation-outcome.js';
import { prefersStrictHandling, queryParams, requestContext, searchBodyParams } from './request-context.js';
import type { ResourceDefinition, TypeInteraction } from './resources/resource-definition.js';
import { SUPPORTED_RESOURCES, resourceDefinitionOf } from './resources/supported-resources.js';
import type { SearchSources } from './search/search-page.js';
import type { SearchSource } from './search/search-sources.js';
import { storeSearchSource } from './search/store-source.js';

export { FHIR_JSON } from './fhir-format.js';

export interface FhirRouterOptions {
  tenants: readonly TenantConfig[];
  logger: Logger;
  /** The base URL clients see, without `/fhir`. */
  publicBaseUrl: () => string;
  softwareVersion: string;
  startedAt: Date;
  /** The open store; called per request (the app opens it at start). */
  store: () => Store;
  /** Checked by every interaction before it does anything. */
  access: AccessControl;
  /** Receives one record per interaction, after it ran (errors included). */
  audit: AuditSink;
  /**
   * Runs before every route except `metadata` (`createAuthMiddleware` of `auth-middleware.ts`): attaches the
   * client that `requestClient(req)` returns, or throws a 401.
   */
  authenticate?: RequestHandler;
  /** Further sources of Slots (computed free slots), merged with the store's in Slot searches and reads. */
  slotSources?: readonly SearchSource[];
  /**
   * Further routes (writes, operations, Subscriptions), registered before the generic read/search routes so
   * `/:tenant/Appointment/$find` is not taken for a read. Each gets the {@link FacadeRouteKit}.
   */
  routes?: ReadonlyArray<(router: Router, kit: FacadeRouteKit) => void>;
  /** The body parser of write routes (`createJsonBodyParser` of request-limits.ts: size and depth bounds). */
  jsonBody?: RequestHandler;
  /** What the extra `routes` add to the CapabilityStatement (writes, operations), so `metadata` stays true. */
  capabilities?: readonly CapabilityContribution[];
  /** CapabilityStatement entries of route modules (Subscription, topics) and what the server instantiates. */
  capability?: Pick<CapabilityOptions, 'extraResources' | 'instantiates'>;
}

/** What a module adding routes to the facade uses, so every route behaves like the built-in ones. */
export interface FacadeRouteKit {
  deps: InteractionDeps;
  /**
   * Handlers for one route: format negotiation (406), authentication, then — for `body: 'json'` — the bounded
   * JSON body parser (size, depth; 413/400), then `run` with the request context; its result is sent as FHIR JSON.
   * `run` must authorize and audit (`audited` in interactions/interaction-deps.ts does both).
   */
  handler(
    run: (ctx: FhirRequestContext, req: Request) => Promise<InteractionResult>,
    options?: { body?: 'json' },
  ): RequestHandler[];
}

/** Bound on a `POST _search` form body: parameters, not resources. */
const SEARCH_BODY_LIMIT = '64kb';

export function createFhirRouter(options: FhirRouterOptions): Router {
  const tenants = new Map(options.tenants.map((t) => [t.id, t]));
  const storeSource = storeSearchSource();
  const sources: SearchSources = {
    of: (type) => (type === 'Slot' ? [storeSource, ...(options.slotSources ?? [])] : [storeSource]),
  };
  const deps: InteractionDeps = {
    access: options.access,
    audit: options.audit,
    sources,
    logger: options.logger,
    baseUrl: (ctx) => tenantBase(options, ctx.tenant),
  };
  const authenticate: RequestHandler = options.authenticate ?? ((_req, _res, next) => next());
  const router = express.Router();

  router.param('tenant', (_req, _res, next, tenantId: string) => {
    if (!tenants.has(tenantId)) throw notFound(`tenant ${tenantId}`);
    next();
  });
  router.param('type', (_req, _res, next, type: string) => {
    if (!resourceDefinitionOf(type)) throw notSupported(type);
    next();
  });

  const jsonBody = options.jsonBody ?? express.json({ type: ['application/json', 'application/fhir+json'] });
  const kit: FacadeRouteKit = {
    deps,
    handler: (run, handlerOptions = {}) => [
      (req, _res, next) => {
        negotiateFormat(req);
        next();
      },
      authenticate,
      ...(handlerOptions.body === 'json' ? [jsonBody] : []),
      async (req: Request, res: Response) => {
        const tenant = tenants.get(String(req.params.tenant)) as TenantConfig;
        const result = await run(requestContext(req, res, tenant, options.store()), req);
        res.set(result.headers ?? {});
        if (result.body === undefined) res.status(result.status).end();
        else sendFhirJson(req, res, result.status, result.body);
      },
    ],
  };
  for (const addRoutes of options.routes ?? []) addRoutes(router, kit);

  router.get('/:tenant/metadata', (req, res) => {
    const tenant = tenants.get(req.params.tenant) as TenantConfig;
    const body = capabilityStatement({
      baseUrl: tenantBase(options, tenant),
      tenantName: tenant.name,
      softwareVersion: options.softwareVersion,
      date: options.startedAt.toISOString(),
      resources: SUPPORTED_RESOURCES,
      contributions: options.capabilities,
      ...options.capability,
    });
    sendFhirJson(req, res, 200, body);
  });

  /** A route of `interaction`: format checked, client authenticated, context built, result sent. */
  const route = (
    interaction: TypeInteraction,
    run: (
      ctx: FhirRequestContext,
      definition: ResourceDefinition,
      req: Request,
    ) => Promise<InteractionResult>,
    afterAuthentication: RequestHandler[] = [],
  ): RequestHandler[] => [
    (req, _res, next) => {
      negotiateFormat(req); // a 406 before any work or authentication
      next();
    },
    authenticate,
    ...afterAuthentication,
    async (req: Request, res: Response) => {
      const tenant = tenants.get(String(req.params.tenant)) as TenantConfig;
      const definition = resourceDefinitionOf(String(req.params.type)) as ResourceDefinition;
      if (!definition.interactions.includes(interaction)) throw notSupported(definition.type);
      const ctx = requestContext(req, res, tenant, options.store());
      const result = await run(ctx, definition, req);
      res.set(result.headers ?? {});
      if (result.body === undefined) res.status(result.status).end();
      else sendFhirJson(req, res, result.status, result.body);
    },
  ];

  const searchRoute = (
    params: (req: Request) => Array<[string, string]>,
    afterAuthentication?: RequestHandler[],
  ) =>
    route(
      'search-type',
      (ctx, definition, req) =>
        search(ctx, deps, definition, { params: params(req), strict: prefersStrictHandling(req) }),
      afterAuthentication,
    );

  router.get('/:tenant/:type', ...searchRoute(queryParams));
  router.post(
    '/:tenant/:type/_search',
    ...searchRoute(searchBodyParams, [
      (req, _res, next) => {
        // `req.is` is null without a body (the query string may carry everything), false for another type.
        if (req.is('application/x-www-form-urlencoded') === false)
          throw FhirError.of(
            415,
            'not-supported',
            'POST _search takes application/x-www-form-urlencoded parameters',
          );
        next();
      },
      express.text({ type: 'application/x-www-form-urlencoded', limit: SEARCH_BODY_LIMIT }),
    ]),
  );
  router.get(
    '/:tenant/:type/_history',
    ...route('history-type', (ctx, definition, req) =>
      historyType(ctx, deps, definition, { params: queryParams(req), strict: prefersStrictHandling(req) }),
    ),
  );
  router.get(
    '/:tenant/:type/:id',
    ...route('read', (ctx, definition, req) =>
      read(ctx, deps, definition, { id: String(req.params.id), ifNoneMatch: req.get('if-none-match') }),
    ),
  );
  router.get(
    '/:tenant/:type/:id/_history',
    ...route('history-instance', (ctx, definition, req) =>
      historyInstance(ctx, deps, definition, {
        id: String(req.params.id),
        params: queryParams(req),
        strict: prefersStrictHandling(req),
      }),
    ),
  );
  router.get(
    '/:tenant/:type/:id/_history/:vid',
    ...route('vread', (ctx, definition, req) =>
      vread(ctx, deps, definition, { id: String(req.params.id), versionId: String(req.params.vid) }),
    ),
  );

  router.use((req) => {
    throw FhirError.of(
      404,
      'not-supported',
      `no FHIR interaction at ${req.method} ${req.baseUrl}${req.path}`,
    );
  });
  router.use(renderFhirError(options.logger));
  return router;
}

/** `{public base}/fhir/{tenant}`: the base of every URL the facade hands out. */
function tenantBase(options: FhirRouterOptions, tenant: TenantConfig): string {
  return `${options.publicBaseUrl().replace(/\/+$/, '')}/fhir/${tenant.id}`;
}

function notSupported(type: string): FhirError {
  return FhirError.of(404, 'not-supported', `${type} is not a resource type this server serves`);
}
