/** Practitioner search (https://hl7.org/fhir/R4/practitioner.html#search): the providers patients book with. */
import type { Practitioner } from '@medplum/fhirtypes';
import { ID_PARAM, LAST_UPDATED_PARAM, activeParam, identifierParam } from './common-parameters.js';
import { familyParam, givenParam, nameParam, personColumns, unadvertisedPersonTokens } from './people.js';
import type { ResourceSearchSpec } from './search-parameter.js';

export const practitionerSearch: ResourceSearchSpec<Practitioner> = {
  resourceType: 'Practitioner',
  parameters: [
    ID_PARAM,
    LAST_UPDATED_PARAM,
    identifierParam('Practitioner-identifier', 'A practitioner identifier such as the NPI'),
    nameParam('Practitioner-name', 'Any part of the name: given, family, prefix (Dr.) or suffix'),
    familyParam(),
    givenParam(),
    activeParam('Practitioner-active', 'the practitioner'),
  ],
  indexedTokens: unadvertisedPersonTokens(['phone', 'email', 'telecom', 'gender', 'birthdate']),
  columns: personColumns,
};
