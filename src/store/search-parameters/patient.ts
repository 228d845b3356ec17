/**
 * Patient search (https://hl7.org/fhir/R4/patient.html#search): found by name and date of birth while the patient
 * is on the phone, by MRN, phone or email.
 */
import type { Patient } from '@medplum/fhirtypes';
import { ID_PARAM, LAST_UPDATED_PARAM, activeParam, identifierParam } from './common-parameters.js';
import { familyParam, givenParam, nameParam, personColumns, personTokens, telecomParam } from './people.js';
import { r4SearchParameter, type ResourceSearchSpec } from './search-parameter.js';
import { addressTokens, codeTokens } from './token-values.js';

/** The `search_tokens` parameter of a patient's `meta.tag` codings (`system|code` and `code`). */
export const TAG_TOKENS = '_tag';

export const patientSearch: ResourceSearchSpec<Patient> = {
  resourceType: 'Patient',
  parameters: [
    ID_PARAM,
    LAST_UPDATED_PARAM,
    identifierParam('Patient-identifier', 'A patient identifier such as the medical record number'),
    nameParam('Patient-name', 'Any part of the name: given, family, prefix, suffix or text'),
    familyParam(),
    givenParam(),
    {
      name: 'birthdate',
      type: 'date',
      definition: r4SearchParameter('individual-birthdate'),
      documentation:
        'The date of birth, a whole calendar day; prefixes eq ne gt lt ge le sa eb with FHIR precision rules (birthdate=1970 is the whole year).',
      target: { kind: 'date-token', param: 'birthdate' },
      tokens: (patient) => personTokens(patient, 'birthdate'),
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
      tokens: (patient) => personTokens(patient, 'gender'),
    },
    telecomParam(
      'phone',
      'A phone number, compared by its digits only ("(518) 555-0001" = 5185550001; a US number with or without its leading 1).',
    ),
    telecomParam('email', 'An email address, case-insensitive.'),
    telecomParam('telecom', 'Any contact point: a phone number (by its digits) or an email address.'),
    activeParam('Patient-active', 'the patient record'),
  ],
  indexedTokens: [
    // Indexed for a future `address` parameter (R4 Patient-address); Location advertises its own.
    { name: 'address', tokens: (patient) => addressTokens(patient.address) },
    // `meta.tag` (R4 `_tag`): the patients awaiting staff review are counted from it at every metrics scrape.
    { name: TAG_TOKENS, tokens: (patient) => codeTokens({ coding: patient.meta?.tag }) },
  ],
  columns: personColumns,
};
