/** Location (https://hl7.org/fhir/R4/location.html): the practice's sites, each with its time zone. */
import { locationSearch } from '../../src/store/search-parameters/location.js';
import { ID_SORT, LAST_UPDATED_SORT, ascending } from './common-sorts.js';
import type { ResourceDefinition } from './resource-definition.js';

export const locationDefinition: ResourceDefinition = {
  type: 'Location',
  documentation: 'The practice locations, as last synced from the records system.',
  interactions: ['read', 'vread', 'search-type', 'history-instance', 'history-type'],
  searchParams: locationSearch.parameters,
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
