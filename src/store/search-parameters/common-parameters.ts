/**
 * Search parameters every resource type shares (`_id`, `_lastUpdated`), and the building blocks the per-type
 * specs use for identifiers, names, codes and `active`.
 *
 * @see https://hl7.org/fhir/R4/search.html#all
 */
import type { CodeableConcept, Identifier, Resource, ResourceType } from '@medplum/fhirtypes';
import { r4SearchParameter, type SearchParamDefinition } from './search-parameter.js';
import { codeTokens, identifierTokens } from './token-values.js';

/** The types R4 lets a Schedule's or an Appointment participant's `actor` refer to. */
export const ACTOR_TYPES: readonly ResourceType[] = [
  'Patient',
  'Practitioner',
  'PractitionerRole',
  'RelatedPerson',
  'Device',
  'HealthcareService',
  'Location',
];

export const ID_PARAM: SearchParamDefinition = {
  name: '_id',
  type: 'token',
  definition: r4SearchParameter('Resource-id'),
  documentation: 'The logical id of the resource; comma-separated ids match any of them.',
  target: { kind: 'id' },
};

export const LAST_UPDATED_PARAM: SearchParamDefinition = {
  name: '_lastUpdated',
  type: 'date',
  definition: r4SearchParameter('Resource-lastUpdated'),
  documentation:
    'When this copy last changed (meta.lastUpdated); prefixes eq ne gt lt ge le sa eb with FHIR precision rules.',
  target: { kind: 'instant', column: 'last_updated' },
};

/** A token parameter over identifier tokens (`system|value` and `value`). */
export function identifierParam<T extends Resource & { identifier?: Identifier[] }>(
  definitionId: string,
  what: string,
): SearchParamDefinition<T> {
  return {
    name: 'identifier',
    type: 'token',
    definition: r4SearchParameter(definitionId),
    documentation: `${what}; system|value, |value, value or system|.`,
    target: { kind: 'token', param: 'identifier', normalise: 'none' },
    tokens: (resource) => identifierTokens(resource.identifier),
  };
}

/** A token parameter over the codings (`system|code` and `code`) of a CodeableConcept element. */
export function codeParam<T extends Resource>(
  name: string,
  definitionId: string,
  documentation: string,
  concepts: (resource: T) => CodeableConcept[] | CodeableConcept | undefined,
): SearchParamDefinition<T> {
  return {
    name,
    type: 'token',
    definition: r4SearchParameter(definitionId),
    documentation: `${documentation}; system|code, |code, code or system|.`,
    target: { kind: 'token', param: name, normalise: 'none' },
    tokens: (resource) => codeTokens(concepts(resource)),
  };
}

/** A string parameter over folded text tokens: case- and accent-insensitive, starts-with per word by default. */
export function textParam<T extends Resource>(
  name: string,
  definitionId: string,
  documentation: string,
  tokens: (resource: T) => string[],
): SearchParamDefinition<T> {
  return {
    name,
    type: 'string',
    definition: r4SearchParameter(definitionId),
    documentation: `${documentation}; case- and accent-insensitive, each word a prefix of a word (\`jose nunez\` finds José Núñez); :exact and :contains.`,
    target: { kind: 'text', param: name },
    tokens,
  };
}

/** `active` as `true`/`false`, stored in the `status` column as `active`/`inactive` (see {@link activeStatus}). */
export function activeParam<T extends Resource>(
  definitionId: string,
  what: string,
): SearchParamDefinition<T> {
  return {
    name: 'active',
    type: 'token',
    definition: r4SearchParameter(definitionId),
    documentation: `Whether ${what} is active: true or false.`,
    target: {
      kind: 'column-token',
      column: 'status',
      codes: ['true', 'false'],
      toStored: (code) => (code === 'true' ? 'active' : 'inactive'),
    },
  };
}

/** The `status` column of a resource with `active`. */
export function activeStatus(active: boolean | undefined): string | null {
  return active === undefined ? null : active ? 'active' : 'inactive';
}
