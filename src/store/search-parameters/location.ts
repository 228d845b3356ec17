/** Location search (https://hl7.org/fhir/R4/location.html#search): the practice's sites. */
import type { Location } from '@medplum/fhirtypes';
import { ID_PARAM, LAST_UPDATED_PARAM, identifierParam, textParam } from './common-parameters.js';
import { r4SearchParameter, type ResourceSearchSpec } from './search-parameter.js';
import { addressTokens, telecomTokens, textForms } from './token-values.js';

export const locationSearch: ResourceSearchSpec<Location> = {
  resourceType: 'Location',
  parameters: [
    ID_PARAM,
    LAST_UPDATED_PARAM,
    identifierParam('Location-identifier', 'A location identifier'),
    textParam('name', 'Location-name', 'The name or an alias of the location', (location) => [
      ...textForms(location.name),
      ...(location.alias ?? []).flatMap(textForms),
    ]),
    textParam(
      'address',
      'Location-address',
      'Any part of the address: a line, city, district, state, postal code, country or its text',
      (location) => addressTokens(location.address),
    ),
    {
      name: 'status',
      type: 'token',
      definition: r4SearchParameter('Location-status'),
      documentation: 'active | suspended | inactive.',
      target: { kind: 'column-token', column: 'status', system: 'http://hl7.org/fhir/location-status' },
    },
  ],
  indexedTokens: [{ name: 'telecom', tokens: (location) => telecomTokens(location.telecom, 'telecom') }],
  columns: (location) => ({ status: location.status ?? null }),
};
