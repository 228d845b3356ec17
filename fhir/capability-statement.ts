/**
 * `GET /fhir/{tenant}/metadata`: what this server does, for FHIR clients to discover
 * (https://hl7.org/fhir/R4/capabilitystatement.html). Generated from the same resource definitions the router and
 * the search engine use, so every advertised interaction, search parameter and include is served, and nothing
 * served goes unadvertised (reliability.md section 3, API9).
 */
import type {
  CapabilityStatement,
  CapabilityStatementRestResource,
  CapabilityStatementRestResourceInteraction,
} from '@medplum/fhirtypes';
import type { ResourceDefinition } from './resources/resource-definition.js';
import { DEFAULT_PAGE_SIZE, MAX_INCLUDED_PER_PAGE, MAX_PAGE_SIZE } from './search/search-limits.js';

export interface CapabilityOptions {
  baseUrl: string;
  tenantName: string;
  softwareVersion: string;
  /** When the server started: the statement's `date`. */
  date: string;
  /** The resource types served, with their interactions and search parameters. */
  resources: readonly ResourceDefinition[];
  /** Entries of route modules that are not built from a ResourceDefinition (Subscription, topics as Basic). */
  extraResources?: readonly CapabilityStatementRestResource[];
  /** Canonicals of CapabilityStatements this server implements (the backport IG's R4 server). */
  instantiates?: readonly string[];
  /** What route modules add to entries of `resources` (writes, conditional create, operations). */
  contributions?: readonly CapabilityContribution[];
}

/** Additions of a route module to one resource type's entry, and to the statement. */
export interface CapabilityContribution {
  type: string;
  interactions?: ReadonlyArray<'create' | 'update' | 'patch' | 'delete'>;
  conditionalCreate?: boolean;
  operations?: ReadonlyArray<{ name: string; definition: string; documentation?: string }>;
  /** Appended to the entry's documentation. */
  documentation?: string;
  /** `CapabilityStatement.patchFormat` (e.g. `application/json-patch+json`). */
  patchFormats?: readonly string[];
  /** Appended to `rest.documentation`. */
  restDocumentation?: string;
  /** `rest.resource.supportedProfile` of the type (IHE's appointment profile). */
  supportedProfiles?: readonly string[];
  /** Added to `CapabilityStatement.instantiates` (IHE's Scheduling Server). */
  instantiates?: readonly string[];
}

const SEARCH_DOCUMENTATION = [
  "Searches are served from Switchboard's synced copy of the records system, never waiting on it.",
  `Paging: _count (default ${DEFAULT_PAGE_SIZE}, clamped to ${MAX_PAGE_SIZE} with a warning entry); follow Bundle.link next/previous, whose opaque keyset cursors stay correct while data changes.`,
  '_sort (a comma list, - for descending), _summary (true, text, data, count, false), _elements, _total (none, estimate, accurate; estimate is accurate).',
  `_include and _revinclude as listed per resource, without :iterate; at most ${MAX_INCLUDED_PER_PAGE} included resources per page.`,
  'Several values in one parameter (comma) match any; a repeated parameter must match each time.',
  'Unknown parameters are ignored and named in a warning entry, or refused with 400 under Prefer: handling=strict.',
  'POST [type]/_search takes the same parameters form-encoded.',
].join(' ');

export function capabilityStatement(options: CapabilityOptions): CapabilityStatement {
  const contributions = options.contributions ?? [];
  const patchFormats = [...new Set(contributions.flatMap((c) => c.patchFormats ?? []))];
  const instantiates = [
    ...new Set([...(options.instantiates ?? []), ...contributions.flatMap((c) => c.instantiates ?? [])]),
  ];
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: options.date,
    publisher: 'Switchboard',
    kind: 'instance',
    ...(instantiates.length > 0 ? { instantiates } : {}),
    software: { name: 'Switchboard', version: options.softwareVersion },
    implementation: {
      description: `Switchboard FHIR facade for ${options.tenantName}`,
      url: options.baseUrl,
    },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    ...(patchFormats.length > 0 ? { patchFormat: patchFormats } : {}),
    rest: [
      {
        mode: 'server',
        documentation: [
          SEARCH_DOCUMENTATION,
          ...contributions.flatMap((c) => c.restDocumentation ?? []),
        ].join(' '),
        security: {
          cors: false,
          service: [
            {
              coding: [
                {
                  system: 'http://terminology.hl7.org/CodeSystem/restful-security-service',
                  code: 'SMART-on-FHIR',
                },
              ],
            },
          ],
          description: 'Bearer tokens issued by the practice, bound to tenants and SMART v2 system scopes.',
        },
        resource: [
          ...options.resources.map((d) => contributed(restResource(d), contributions)),
          ...(options.extraResources ?? []),
        ],
      },
    ],
  };
}

function restResource(definition: ResourceDefinition): CapabilityStatementRestResource {
  const interaction = definition.interactions.map((code): CapabilityStatementRestResourceInteraction => ({
    code,
  }));
  return {
    type: definition.type,
    profile: `http://hl7.org/fhir/StructureDefinition/${definition.type}`,
    documentation: `${definition.documentation} _sort: ${definition.sorts.map((s) => s.name).join(', ')} (default ${definition.defaultSort.map((s) => `${s.descending ? '-' : ''}${s.sort.name}`).join(',')}).`,
    interaction,
    versioning: 'versioned',
    readHistory: definition.interactions.includes('vread'),
    updateCreate: false,
    conditionalCreate: false,
    conditionalRead: 'not-supported',
    conditionalUpdate: false,
    conditionalDelete: 'not-supported',
    ...(definition.includes.length > 0
      ? { searchInclude: definition.includes.map((i) => `${definition.type}:${i.name}`) }
      : {}),
    ...(definition.revIncludes.length > 0
      ? { searchRevInclude: definition.revIncludes.map((r) => `${r.sourceType}:${r.param}`) }
      : {}),
    searchParam: definition.searchParams.map((p) => ({
      name: p.name,
      definition: p.definition,
      type: p.type,
      documentation: p.documentation,
    })),
  };
}

/** An entry with what contributions add to its type. */
function contributed(
  entry: CapabilityStatementRestResource,
  contributions: readonly CapabilityContribution[],
): CapabilityStatementRestResource {
  const own = contributions.filter((c) => c.type === entry.type);
  if (own.length === 0) return entry;
  const operations = own.flatMap((c) => c.operations ?? []);
  const profiles = own.flatMap((c) => c.supportedProfiles ?? []);
  return {
    ...entry,
    ...(profiles.length > 0 ? { supportedProfile: [...(entry.supportedProfile ?? []), ...profiles] } : {}),
    documentation: [entry.documentation, ...own.flatMap((c) => c.documentation ?? [])].join(' '),
    interaction: [
      ...(entry.interaction ?? []),
      ...own.flatMap((c) => c.interactions ?? []).map((code) => ({ code })),
    ],
    conditionalCreate: entry.conditionalCreate === true || own.some((c) => c.conditionalCreate === true),
    ...(operations.length > 0 ? { operation: operations.map((o) => ({ ...o })) } : {}),
  };
}
