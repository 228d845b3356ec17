/**
 * Schedule (https://hl7.org/fhir/R4/schedule.html): one practitioner at one location, the container of bookable
 * Slots.
 */
import { SCHEDULE_ACTOR_TYPES, scheduleSearch } from '../../src/store/search-parameters/schedule.js';
import { ID_SORT, LAST_UPDATED_SORT, ascending, literalReferences } from './common-sorts.js';
import type { ResourceDefinition } from './resource-definition.js';

export const scheduleDefinition: ResourceDefinition = {
  type: 'Schedule',
  documentation:
    'One practitioner at one location; serviceType lists the appointment types bookable there and comment the weekly working hours.',
  interactions: ['read', 'vread', 'search-type', 'history-instance', 'history-type'],
  searchParams: scheduleSearch.parameters,
  sorts: [
    ID_SORT,
    LAST_UPDATED_SORT,
    { name: 'date', expressions: [{ kind: 'column', column: 'period_start' }] },
  ],
  defaultSort: ascending(ID_SORT),
  includes: [
    {
      name: 'actor',
      targetTypes: SCHEDULE_ACTOR_TYPES,
      references: (r) => (r.resourceType === 'Schedule' ? literalReferences(r.actor ?? []) : []),
    },
  ],
  revIncludes: [{ sourceType: 'Slot', param: 'schedule' }],
  summaryElements: [
    'identifier',
    'active',
    'serviceCategory',
    'serviceType',
    'specialty',
    'actor',
    'planningHorizon',
  ],
  mandatoryElements: ['actor'],
};
