/** Practitioner (https://hl7.org/fhir/R4/practitioner.html): the providers patients book with. */
import {
  FAMILY_SORT,
  GIVEN_SORT,
  ID_PARAM,
  ID_SORT,
  LAST_UPDATED_PARAM,
  LAST_UPDATED_SORT,
  activeParam,
  ascending,
  identifierParam,
  textParam,
} from './common-parameters.js';
import type { ResourceDefinition } from './resource-definition.js';

export const practitionerDefinition: ResourceDefinition = {
  type: 'Practitioner',
  documentation: 'Providers of the practice, as last synced from the records system.',
  interactions: ['read', 'vread', 'search-type', 'history-instance', 'history-type'],
  searchParams: [
    ID_PARAM,
    LAST_UPDATED_PARAM,
    identifierParam('Practitioner-identifier', 'A practitioner identifier such as the NPI'),
    textParam('name', 'Practitioner-name', 'Any part of the name: given, family, prefix (Dr.) or suffix'),
    textParam('family', 'individual-family', 'The family name'),
    textParam('given', 'individual-given', 'A given name'),
    activeParam('Practitioner-active', 'the practitioner'),
  ],
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
