/** Location (https://hl7.org/fhir/R4/location.html): the practice's sites, each with its time zone. */
import type { Address, Resource } from '@medplum/fhirtypes';
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

/** Every searchable text of `Location.address` (R4 `Location-address` matches any part of it). */
function addressTexts(resource: Resource): string[] {
  if (resource.resourceType !== 'Location' || !resource.address) return [];
  const a: Address = resource.address;
  return [...(a.line ?? []), a.city, a.district, a.state, a.postalCode, a.country, a.text].filter(
    (part): part is string => typeof part === 'string' && part.trim() !== '',
  );
}

export const locationDefinition: ResourceDefinition = {
  type: 'Location',
  documentation: 'The practice locations, as last synced from the records system.',
  interactions: ['read', 'vread', 'search-type', 'history-instance', 'history-type'],
  searchParams: [
    ID_PARAM,
    LAST_UPDATED_PARAM,
    identifierParam('Location-identifier', 'A location identifier'),
    textParam('name', 'Location-name', 'The name or an alias of the location'),
    {
      name: 'address',
      type: 'string',
      definition: r4SearchParameter('Location-address'),
      documentation:
        'Any part of the address (line, city, state, postal code, country, text); case- and accent-insensitive, each word a prefix of a word; :exact and :contains.',
      target: { kind: 'scan-text', extract: addressTexts },
    },
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
