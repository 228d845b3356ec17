/**
 * Patient (https://hl7.org/fhir/R4/patient.html): found by name and date of birth while the patient is on the
 * phone, by MRN, phone or email.
 */
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
import { r4SearchParameter, type ResourceDefinition } from './resource-definition.js';

export const patientDefinition: ResourceDefinition = {
  type: 'Patient',
  documentation:
    'Patients of the practice, as last synced from the records system. Name searches ignore case and accents.',
  interactions: ['read', 'vread', 'search-type', 'history-instance', 'history-type'],
  searchParams: [
    ID_PARAM,
    LAST_UPDATED_PARAM,
    identifierParam('Patient-identifier', 'A patient identifier such as the medical record number'),
    textParam('name', 'Patient-name', 'Any part of the name: given, family, prefix, suffix or text'),
    textParam('family', 'individual-family', 'The family name'),
    textParam('given', 'individual-given', 'A given name'),
    {
      name: 'birthdate',
      type: 'date',
      definition: r4SearchParameter('individual-birthdate'),
      documentation:
        'The date of birth, a whole calendar day; prefixes eq ne gt lt ge le sa eb with FHIR precision rules (birthdate=1970 is the whole year).',
      target: { kind: 'date-token', param: 'birthdate' },
    },
    {
      name: 'gender',
      type: 'token',
      definition: r4SearchParameter('individual-gender'),
      documentation: 'Administrative gender: male | female | other | unknown.',
      target: {
        kind: 'token',
        param: 'gender',
        normalise: 'none',
        implicitSystem: 'http://hl7.org/fhir/administrative-gender',
      },
    },
    {
      name: 'phone',
      type: 'token',
      definition: r4SearchParameter('individual-phone'),
      documentation:
        'A phone number, compared by its digits only ("(518) 555-0001" = 5185550001; a US number with or without its leading 1).',
      target: { kind: 'token', param: 'phone', normalise: 'phone' },
    },
    {
      name: 'email',
      type: 'token',
      definition: r4SearchParameter('individual-email'),
      documentation: 'An email address, case-insensitive.',
      target: { kind: 'token', param: 'email', normalise: 'email' },
    },
    {
      name: 'telecom',
      type: 'token',
      definition: r4SearchParameter('individual-telecom'),
      documentation: 'Any contact point: a phone number (by its digits) or an email address.',
      target: { kind: 'token', param: 'telecom', normalise: 'telecom' },
    },
    activeParam('Patient-active', 'the patient record'),
  ],
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
