/**
 * Search parameters and sorts every resource type shares (`_id`, `_lastUpdated`), and the building blocks the
 * per-type modules use for identifiers, names, codes and references.
 *
 * @see https://hl7.org/fhir/R4/search.html#all
 */
import type { Reference } from '@medplum/fhirtypes';
import {
  r4SearchParameter,
  type SearchParamDefinition,
  type SortDefinition,
  type SortedBy,
} from './resource-definition.js';

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

export const ID_SORT: SortDefinition = { name: '_id', expressions: [{ kind: 'column', column: 'id' }] };
export const LAST_UPDATED_SORT: SortDefinition = {
  name: '_lastUpdated',
  expressions: [{ kind: 'column', column: 'last_updated' }],
};

/** Ascending by one sort. */
export const ascending = (sort: SortDefinition): SortedBy[] => [{ sort, descending: false }];

/** A token parameter over stored identifier tokens (`system|value` and `value`). */
export function identifierParam(definitionId: string, what: string): SearchParamDefinition {
  return {
    name: 'identifier',
    type: 'token',
    definition: r4SearchParameter(definitionId),
    documentation: `${what}; system|value, |value, value or system|.`,
    target: { kind: 'token', param: 'identifier', normalise: 'none' },
  };
}

/** A token parameter over stored codings (`system|code` and `code`) of a CodeableConcept element. */
export function codeParam(
  name: string,
  definitionId: string,
  documentation: string,
  tokenParam = name,
): SearchParamDefinition {
  return {
    name,
    type: 'token',
    definition: r4SearchParameter(definitionId),
    documentation: `${documentation}; system|code, |code, code or system|.`,
    target: { kind: 'token', param: tokenParam, normalise: 'none' },
  };
}

/** A string parameter over folded name tokens: case- and accent-insensitive, starts-with per word by default. */
export function textParam(
  name: string,
  definitionId: string,
  documentation: string,
  tokenParam = name,
): SearchParamDefinition {
  return {
    name,
    type: 'string',
    definition: r4SearchParameter(definitionId),
    documentation: `${documentation}; case- and accent-insensitive, each word a prefix of a word (\`jose nunez\` finds José Núñez); :exact and :contains.`,
    target: { kind: 'text', param: tokenParam },
  };
}

/** `active` as `true`/`false`, stored in the `status` column as `active`/`inactive`. */
export function activeParam(definitionId: string, what: string): SearchParamDefinition {
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

/** The references of a list that point at resources (skipping contained and logical ones). */
export function literalReferences(references: ReadonlyArray<Reference | undefined>): Reference[] {
  return references.filter((r): r is Reference => typeof r?.reference === 'string');
}

/** Sort by family name (the longest folded `family` token), for people: Patient, Practitioner. */
export const FAMILY_SORT: SortDefinition = {
  name: 'family',
  expressions: [{ kind: 'token', param: 'family', pick: 'longest' }],
};

/** Sort by given name (the longest folded `given` token), for people. */
export const GIVEN_SORT: SortDefinition = {
  name: 'given',
  expressions: [{ kind: 'token', param: 'given', pick: 'longest' }],
};
