/** Location (https://hl7.org/fhir/R4/location.html): the practice's sites, each with its time zone. */
import {
  ID_PARAM,
  ID_SORT,
  LAST_UPDATED_PARAM,
  LAST_UPDATED_SORT,
  ascending,
  identifierParam,
  textParam,
} from './common-parameters.js';
import { r4SearchParameter, type ResourceDefinition } from './resource-definition.js';

export const locationDefinition: ResourceDefinition = {
  type: 'Location',
  documentation: 'The practice locations, as last synced from the records system.',
  interactions: ['read', 'vread', 'search-type', 'history-instance', 'history-type'],
  searchParams: [
    ID_PARAM,
    LAST_UPDATED_PARAM,
    identifierParam('Location-identifier', 'A location identifier'),
    textParam('name', 'Location-name', 'The name or an alias of the location'),
    textParam(
      'address',
      'Location-address',
      'Any part of the address: a line, city, district, state, postal code, country or its text',
    ),
    {
      name: 'status',
      type: 'token',
      definition: r4SearchParameter('Location-status'),
      documentation: 'active | suspended | inactive.',
      target: { kind: 'column-token', column: 'status', system: 'http://hl7.org/fhir/location-status' },
    },
  ],
  sorts: [
    ID_SORT,
    LAST_UPDATED_SORT,
    { name: 'name', expressions: [{ kind: 'token', param: 'name', pick: 'longest' }] },
  ],
  defaultSort: ascending(ID_SORT),
  includes: [],
  revIncludes: [],
  summaryElements: [
    'identifier',
    'status',
    'operationalStatus',
    'name',
    'description',
    'mode',
    'type',
    'physicalType',
    'managingOrganization',
  ],
  mandatoryElements: [],
};
