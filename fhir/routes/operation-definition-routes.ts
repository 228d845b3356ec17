/**
 * `GET OperationDefinition/{id}` and `GET OperationDefinition[?url=]`: the definitions of the facade's
 * `$operations`, which the CapabilityStatement links by canonical (`rest.resource.operation.definition`).
 * Conformance resources, not PHI: public like `metadata`, and not audited.
 */
import type { Bundle, CapabilityStatementRestResource, OperationDefinition } from '@medplum/fhirtypes';
import type { FhirRouteModule } from '../fhir-route.js';
import { FhirError, notFound } from '../operation-outcome.js';
import { operationDefinition, type OperationSpec } from '../operations/operation-definition.js';
import { resourceUrl } from '../search/bundle-builder.js';

export function operationDefinitionRoutes(specs: readonly OperationSpec[]): FhirRouteModule {
  const definitions = specs.map(operationDefinition);
  return (deps) => [
    {
      method: 'GET',
      path: 'OperationDefinition',
      public: true,
      handle: (request, ctx) => {
        const urls = request.query.filter(([name]) => name === 'url').map(([, value]) => value);
        const unknown = request.query.find(([name]) => !['url', '_format', '_pretty'].includes(name));
        if (unknown) {
          throw FhirError.of(
            400,
            'not-supported',
            `unknown search parameter ${unknown[0]}; url is supported`,
            {
              expression: unknown[0],
            },
          );
        }
        const matches = definitions.filter((d) => urls.every((url) => url.split(',').includes(d.url ?? '')));
        const base = deps.baseUrl(ctx);
        const bundle: Bundle<OperationDefinition> = {
          resourceType: 'Bundle',
          type: 'searchset',
          total: matches.length,
          link: [{ relation: 'self', url: `${base}/OperationDefinition` }],
          ...(matches.length > 0
            ? {
                entry: matches.map((resource) => ({
                  fullUrl: resourceUrl(base, 'OperationDefinition', resource.id as string),
                  resource,
                  search: { mode: 'match' as const },
                })),
              }
            : {}),
        };
        return Promise.resolve({ status: 200, body: bundle });
      },
    },
    {
      method: 'GET',
      path: 'OperationDefinition/:id',
      public: true,
      handle: (request) => {
        const found = definitions.find((d) => d.id === request.params.id);
        if (!found) throw notFound(`OperationDefinition/${request.params.id}`);
        return Promise.resolve({ status: 200, body: found });
      },
    },
  ];
}

/** The CapabilityStatement entry of these routes. */
export function operationDefinitionCapability(): CapabilityStatementRestResource {
  return {
    type: 'OperationDefinition',
    profile: 'http://hl7.org/fhir/StructureDefinition/OperationDefinition',
    documentation:
      "The definitions of this server's operations, as linked from each resource's operation entries. No token needed.",
    interaction: [{ code: 'read' }, { code: 'search-type' }],
    versioning: 'no-version',
    readHistory: false,
    updateCreate: false,
    searchParam: [
      {
        name: 'url',
        definition: 'http://hl7.org/fhir/SearchParameter/conformance-url',
        type: 'uri',
        documentation: 'The canonical URL, exactly.',
      },
    ],
  };
}
