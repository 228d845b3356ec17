/**
 * Patient (https://hl7.org/fhir/R4/patient.html): found by name and date of birth while the patient is on the
 * phone, by MRN, phone or email.
 */
import { patientSearch } from '../../src/store/search-parameters/patient.js';
import { FAMILY_SORT, GIVEN_SORT, ID_SORT, LAST_UPDATED_SORT, ascending } from './common-sorts.js';
import type { ResourceDefinition } from './resource-definition.js';

export const patientDefinition: ResourceDefinition = {
  type: 'Patient',
  documentation:
    'Patients of the practice, as last synced from the records system. Name searches ignore case and accents.',
  interactions: ['read', 'vread', 'search-type', 'history-instance', 'history-type'],
  searchParams: patientSearch.parameters,
  sorts: [
    ID_SORT,
    LAST_UPDATED_SORT,
    FAMILY_SORT,
    GIVEN_SORT,
    { name: 'name', expressions: [...FAMILY_SORT.expressions, ...GIVEN_SORT.expressions] },
    { name: 'birthdate', expressions: [{ kind: 'token', param: 'birthdate', pick: 'lowest' }] },
  ],
  defaultSort: ascending(ID_SORT),
  includes: [],
  revIncludes: [],
  summaryElements: [
    'identifier',
    'active',
    'name',
    'telecom',
    'gender',
    'birthDate',
    'deceasedBoolean',
    'deceasedDateTime',
    'address',
    'managingOrganization',
    'link',
  ],
  mandatoryElements: [],
};
