/**
 * Schedule (https://hl7.org/fhir/R4/schedule.html): one practitioner at one location, the container of bookable
 * Slots.
 */
import type { ResourceType } from '@medplum/fhirtypes';
import {
  ID_PARAM,
  ID_SORT,
  LAST_UPDATED_PARAM,
  LAST_UPDATED_SORT,
  activeParam,
  ascending,
  codeParam,
  identifierParam,
  literalReferences,
} from './common-parameters.js';
import { r4SearchParameter, type ResourceDefinition } from './resource-definition.js';

/** R4 `Schedule.actor` targets. */
const ACTOR_TYPES: readonly ResourceType[] = [
  'Patient',
  'Practitioner',
  'PractitionerRole',
  'RelatedPerson',
  'Device',
  'HealthcareService',
  'Location',
];

export const scheduleDefinition: ResourceDefinition = {
  type: 'Schedule',
  documentation:
    'One practitioner at one location; serviceType lists the appointment types bookable there and comment the weekly working hours.',
  interactions: ['read', 'vread', 'search-type', 'history-instance', 'history-type'],
  searchParams: [
    ID_PARAM,
    LAST_UPDATED_PARAM,
    identifierParam('Schedule-identifier', 'A schedule identifier'),
    {
      name: 'actor',
      type: 'reference',
      definition: r4SearchParameter('Schedule-actor'),
      documentation:
        'The practitioner or location the schedule is for: Type/id, or a bare id; :Practitioner, :Location… narrow the type.',
      target: { kind: 'reference-token', param: 'actor' },
      targetTypes: ACTOR_TYPES,
    },
    activeParam('Schedule-active', 'the schedule'),
    codeParam('service-type', 'Schedule-service-type', 'An appointment type bookable on the schedule'),
    codeParam('specialty', 'Schedule-specialty', 'The specialty of the practitioner'),
    {
      name: 'date',
      type: 'date',
      definition: r4SearchParameter('Schedule-date'),
      documentation:
        'The planning horizon (a Period; an open end is unbounded, a bare date covers its whole day in UTC); schedules without one do not match. Prefixes eq ne gt lt ge le sa eb.',
      target: { kind: 'period', start: 'period_start', end: 'period_end' },
    },
  ],
  sorts: [
    ID_SORT,
    LAST_UPDATED_SORT,
    { name: 'date', expressions: [{ kind: 'column', column: 'period_start' }] },
  ],
  defaultSort: ascending(ID_SORT),
  includes: [
    {
      name: 'actor',
      targetTypes: ACTOR_TYPES,
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
