/**
 * Sorts every resource type shares (`_id`, `_lastUpdated`) or people share (family, given), and the literal
 * references `_include` follows. The search parameters themselves are the spec's (`src/store/search-parameters/`).
 *
 * @see https://hl7.org/fhir/R4/search.html#all
 */
import type { Reference } from '@medplum/fhirtypes';
import type { SortDefinition, SortedBy } from './resource-definition.js';

export const ID_SORT: SortDefinition = { name: '_id', expressions: [{ kind: 'column', column: 'id' }] };
export const LAST_UPDATED_SORT: SortDefinition = {
  name: '_lastUpdated',
  expressions: [{ kind: 'column', column: 'last_updated' }],
};

/** Ascending by one sort. */
export const ascending = (sort: SortDefinition): SortedBy[] => [{ sort, descending: false }];

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
