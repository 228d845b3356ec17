/**
 * The FHIR R4 facade without a transport (DESIGN.md section 2): {@link createFhirHandler} builds, per app, the
 * one entry `handleFhirRequest(request) → FhirResponse` that the HTTP router (`fhir/fhir-router.ts`) and any
 * other facade in the process (the agent interface, with an already-authenticated client) call. It dispatches
 * over route tables (fhir/fhir-route.ts): the route modules' first, then the read/search interactions. An unknown
 * tenant or resource type is a 404; every error thrown inside becomes an OperationOutcome answer here
 * ({@link errorResponse}). Access control and audit run inside each route (`audited`), not around it.
 */
import { clientMayUseTenant } from '../src/auth/client-registry.js';
import type { TenantConfig } from '../src/config.js';
import type { Logger } from '../src/logger.js';
import type { Store } from '../src/store/database.js';
import type { AccessControl, AuditSink } from './access.js';
import type { CapabilityContribution, CapabilityOptions } from './capability-statement.js';
import type { FhirRequest, FhirResponse } from './fhir-request.js';
import { matchRoute, type FhirRoute, type FhirRouteModule } from './fhir-route.js';

export type { FhirRouteModule } from './fhir-route.js';
import type { InteractionDeps } from './interactions/interaction-deps.js';
import { FhirError, errorResponse, notFound, operationOutcome } from './operation-outcome.js';
import { requestContext } from './request-context.js';
import { resourceDefinitionOf } from './resources/supported-resources.js';
import { interactionRoutes, notSupported } from './routes/interaction-routes.js';
import type { SearchSources } from './search/search-page.js';
import type { SearchSource } from './search/search-sources.js';
import { storeSearchSource } from './search/store-source.js';

export interface FhirHandlerOptions {
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
   * Further sources of a type, merged with the store's in its searches and reads: computed free Slots, holds and
   * bookings in flight as pending Appointments.
   */
  searchSources?: Readonly<Partial<Record<string, readonly SearchSource[]>>>;
  /**
   * Further routes (writes, operations, Subscriptions), matched before the generic read/search routes so
   * `Appointment/$find` is not taken for a read.
   */
  routes?: readonly FhirRouteModule[];
  /** What the extra `routes` add to the CapabilityStatement (writes, operations), so `metadata` stays true. */
  capabilities?: readonly CapabilityContribution[];
  /** CapabilityStatement entries of route modules (Subscription, topics) and what the server instantiates. */
  capability?: Pick<CapabilityOptions, 'extraResources' | 'instantiates'>;
}

/** The facade as a function of requests. */
export interface FhirHandler {
  /** Answers `request`; never throws: errors are OperationOutcome responses. */
  handleFhirRequest(request: FhirRequest): Promise<FhirResponse>;
  /**
   * The route `request` goes to, its tenant and resource type checked (404 FhirErrors otherwise): for a
   * transport that authenticates and reads the body the route asks for before calling {@link handleFhirRequest}.
   */
  routeOf(request: Pick<FhirRequest, 'method' | 'tenant' | 'path'>): FhirRoute;
}

const ROUTE_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

export function createFhirHandler(options: FhirHandlerOptions): FhirHandler {
  const tenants = new Map(options.tenants.map((t) => [t.id, t]));
  const storeSource = storeSearchSource();
  const sources: SearchSources = {
    of: (type) => [storeSource, ...(options.searchSources?.[type] ?? [])],
  };
  const deps: InteractionDeps = {
    access: options.access,
    audit: admittedOnly(options.audit),
    sources,
    logger: options.logger,
    baseUrl: (ctx) => tenantBase(options, ctx.tenant),
  };
  const routes: readonly FhirRoute[] = [
    ...(options.routes ?? []).flatMap((module) => module(deps)),
    ...interactionRoutes(deps, {
      tenantBase: (tenant) => tenantBase(options, tenant),
      softwareVersion: options.softwareVersion,
      date: options.startedAt.toISOString(),
      contributions: options.capabilities,
      ...options.capability,
    }),
  ];

  const route = (request: Pick<FhirRequest, 'method' | 'tenant' | 'path' | 'client'>) => {
    const match = matchRoute(routes, request.method, request.path);
    if (!match) {
      const where = `/fhir/${request.tenant}${request.path === '' ? '' : `/${request.path}`}`;
      // A path the facade serves, with another method: 405 and what is allowed (RFC 9110 section 15.5.6).
      const allowed = ROUTE_METHODS.filter((method) => {
        const other = matchRoute(routes, method, request.path);
        return (
          other !== undefined && (other.params.type === undefined || resourceDefinitionOf(other.params.type))
        );
      });
      if (allowed.length > 0 && tenants.has(request.tenant)) {
        throw new FhirError(
          405,
          operationOutcome('not-supported', `${request.method} is not supported at ${where}`),
          { Allow: allowed.join(', ') },
        );
      }
      throw FhirError.of(404, 'not-supported', `no FHIR interaction at ${request.method} ${where}`);
    }
    if (!tenants.has(request.tenant)) throw notFound(`tenant ${request.tenant}`);
    // What the HTTP edge checks on authentication, checked again for callers that bring their own client.
    if (request.client && !clientMayUseTenant(request.client, request.tenant))
      throw notFound(`tenant ${request.tenant}`);
    const type = match.params.type;
    if (type !== undefined && !resourceDefinitionOf(type)) throw notSupported(type);
    return match;
  };
  const failure = (error: unknown, request: FhirRequest) =>
    errorResponse(error, options.logger, {
      method: request.method,
      path: `/${request.tenant}/${request.path}`,
    });

  return {
    routeOf: (request) => route(request).route,
    async handleFhirRequest(request) {
      // Only requests that reached a non-public route carry a request id, their errors included.
      let requestId: string | undefined;
      try {
        const { route: matched, params } = route(request);
        const tenant = tenants.get(request.tenant) as TenantConfig;
        const ctx = requestContext(request, tenant, options.store());
        if (!matched.public) requestId = ctx.requestId;
        const response = await matched.handle({ ...request, params }, ctx);
        const refusal = await request.admission;
        if (refusal !== undefined) throw refusal;
        return requestId === undefined ? response : withRequestId(response, requestId);
      } catch (error) {
        // A request refused by the rate limit is answered so, whatever it came to while the count was on its way.
        const refusal = await request.admission;
        const response = failure(refusal ?? error, request);
        return requestId === undefined ? response : withRequestId(response, requestId);
      }
    },
  };
}

/** Writes no record of a request the rate limit refused while it ran (it is answered 429, not served). */
function admittedOnly(audit: AuditSink): AuditSink {
  return {
    async record(ctx, record) {
      if (ctx.admission && (await ctx.admission) !== undefined) return;
      await audit.record(ctx, record);
    },
  };
}

function withRequestId(response: FhirResponse, requestId: string): FhirResponse {
  return { ...response, headers: { 'X-Request-Id': requestId, ...response.headers } };
}

/** `{public base}/fhir/{tenant}`: the base of every URL the facade hands out. */
function tenantBase(options: Pick<FhirHandlerOptions, 'publicBaseUrl'>, tenant: TenantConfig): string {
  return `${options.publicBaseUrl().replace(/\/+$/, '')}/fhir/${tenant.id}`;
}
