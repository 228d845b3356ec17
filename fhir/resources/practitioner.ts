/** Practitioner (https://hl7.org/fhir/R4/practitioner.html): the providers patients book with. */
import { practitionerSearch } from '../../src/store/search-parameters/practitioner.js';
import { FAMILY_SORT, GIVEN_SORT, ID_SORT, LAST_UPDATED_SORT, ascending } from './common-sorts.js';
import type { ResourceDefinition } from './resource-definition.js';

export const practitionerDefinition: ResourceDefinition = {
  type: 'Practitioner',
  documentation: 'Providers of the practice, as last synced from the records system.',
  interactions: ['read', 'vread', 'search-type', 'history-instance', 'history-type'],
  searchParams: practitionerSearch.parameters,
  sorts: [
    ID_SORT,
    LAST_UPDATED_SORT,
    FAMILY_SORT,
    GIVEN_SORT,
    { name: 'name', expressions: [...FAMILY_SORT.expressions, ...GIVEN_SORT.expressions] },
  ],
  defaultSort: ascending(ID_SORT),
  includes: [],
  revIncludes: [],
  summaryElements: ['identifier', 'active', 'name', 'telecom', 'address', 'gender', 'birthDate'],
  mandatoryElements: [],
};
