/**
 * The facade's own routes, after those of the route modules: `metadata` (public), then search, history, read and
 * vread of every type in `SUPPORTED_RESOURCES` (https://hl7.org/fhir/R4/http.html). Each checks that the type
 * offers the interaction, then runs it (the interaction authorizes and audits).
 */
import type { TenantConfig } from '../../src/config.js';
import type { FhirRequestContext } from '../access.js';
import { capabilityStatement, type CapabilityOptions } from '../capability-statement.js';
import { prefersStrictHandling, type FhirResponse, type RoutedFhirRequest } from '../fhir-request.js';
import type { FhirRoute } from '../fhir-route.js';
import { historyInstance } from '../interactions/history-instance.js';
import { historyType } from '../interactions/history-type.js';
import type { InteractionDeps } from '../interactions/interaction-deps.js';
import { read } from '../interactions/read.js';
import { search } from '../interactions/search.js';
import { vread } from '../interactions/vread.js';
import { FhirError } from '../operation-outcome.js';
import type { ResourceDefinition, TypeInteraction } from '../resources/resource-definition.js';
import { SUPPORTED_RESOURCES, resourceDefinitionOf } from '../resources/supported-resources.js';

export interface MetadataOptions extends Pick<
  CapabilityOptions,
  'softwareVersion' | 'date' | 'contributions' | 'extraResources' | 'instantiates'
> {
  tenantBase(tenant: TenantConfig): string;
}

export function interactionRoutes(deps: InteractionDeps, metadata: MetadataOptions): FhirRoute[] {
  /** A route of `interaction` on the `:type` of its path. */
  const typed = (
    interaction: TypeInteraction,
    run: (
      request: RoutedFhirRequest,
      ctx: FhirRequestContext,
      definition: ResourceDefinition,
    ) => Promise<FhirResponse>,
  ): FhirRoute['handle'] => {
    return (request, ctx) => {
      const definition = resourceDefinitionOf(String(request.params.type)) as ResourceDefinition;
      if (!definition.interactions.includes(interaction)) throw notSupported(definition.type);
      return run(request, ctx, definition);
    };
  };
  const strict = prefersStrictHandling;
  return [
    {
      method: 'GET',
      path: 'metadata',
      public: true,
      handle: (_request, ctx) =>
        Promise.resolve({
          status: 200,
          body: capabilityStatement({
            ...metadata,
            baseUrl: metadata.tenantBase(ctx.tenant),
            tenantName: ctx.tenant.name,
            resources: SUPPORTED_RESOURCES,
          }),
        }),
    },
    {
      method: 'GET',
      path: ':type',
      handle: typed('search-type', (request, ctx, definition) =>
        search(ctx, deps, definition, { params: request.query, strict: strict(request) }),
      ),
    },
    {
      method: 'POST',
      path: ':type/_search',
      body: 'form',
      handle: typed('search-type', (request, ctx, definition) =>
        search(ctx, deps, definition, { params: searchBodyParams(request), strict: strict(request) }),
      ),
    },
    {
      method: 'GET',
      path: ':type/_history',
      handle: typed('history-type', (request, ctx, definition) =>
        historyType(ctx, deps, definition, { params: request.query, strict: strict(request) }),
      ),
    },
    {
      method: 'GET',
      path: ':type/:id',
      handle: typed('read', (request, ctx, definition) =>
        read(ctx, deps, definition, {
          id: String(request.params.id),
          ifNoneMatch: request.headers['if-none-match'],
        }),
      ),
    },
    {
      method: 'GET',
      path: ':type/:id/_history',
      handle: typed('history-instance', (request, ctx, definition) =>
        historyInstance(ctx, deps, definition, {
          id: String(request.params.id),
          params: request.query,
          strict: strict(request),
        }),
      ),
    },
    {
      method: 'GET',
      path: ':type/:id/_history/:vid',
      handle: typed('vread', (request, ctx, definition) =>
        vread(ctx, deps, definition, {
          id: String(request.params.id),
          versionId: String(request.params.vid),
        }),
      ),
    },
  ];
}

/** The parameters of a `POST [type]/_search`: the query string, then the form body. */
function searchBodyParams(request: RoutedFhirRequest): Array<readonly [string, string]> {
  const body = request.body;
  return [...request.query, ...(typeof body === 'string' ? new URLSearchParams(body) : [])];
}

export function notSupported(type: string): FhirError {
  return FhirError.of(404, 'not-supported', `${type} is not a resource type this server serves`);
}
