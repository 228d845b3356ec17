/** Schedule search (https://hl7.org/fhir/R4/schedule.html#search): one practitioner at one location. */
import type { Schedule } from '@medplum/fhirtypes';
import { referenceKey } from '../reference-key.js';
import { firstIdOf, periodBound } from './column-values.js';
import {
  ACTOR_TYPES,
  ID_PARAM,
  LAST_UPDATED_PARAM,
  activeParam,
  activeStatus,
  codeParam,
  identifierParam,
} from './common-parameters.js';
import { r4SearchParameter, type ResourceSearchSpec } from './search-parameter.js';
import { codeTokens } from './token-values.js';

/** R4 `Schedule.actor` targets. */
export const SCHEDULE_ACTOR_TYPES = ACTOR_TYPES;

export const scheduleSearch: ResourceSearchSpec<Schedule> = {
  resourceType: 'Schedule',
  parameters: [
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
      targetTypes: SCHEDULE_ACTOR_TYPES,
      tokens: (schedule) => (schedule.actor ?? []).map(referenceKey),
    },
    activeParam('Schedule-active', 'the schedule'),
    codeParam(
      'service-type',
      'Schedule-service-type',
      'An appointment type bookable on the schedule',
      (schedule) => schedule.serviceType,
    ),
    codeParam('specialty', 'Schedule-specialty', 'The specialty of the practitioner', (s) => s.specialty),
    {
      name: 'date',
      type: 'date',
      definition: r4SearchParameter('Schedule-date'),
      documentation:
        'The planning horizon (a Period; an open end is unbounded, a bare date covers its whole day in UTC); schedules without one do not match. Prefixes eq ne gt lt ge le sa eb.',
      target: { kind: 'period', start: 'period_start', end: 'period_end' },
    },
  ],
  indexedTokens: [{ name: 'service-category', tokens: (schedule) => codeTokens(schedule.serviceCategory) }],
  // A Schedule's `planningHorizon` is its period (a date without a time covers its whole day, month or year).
  columns: (schedule) => ({
    period_start: periodBound(schedule.planningHorizon?.start, 'start'),
    period_end: periodBound(schedule.planningHorizon?.end, 'end'),
    status: activeStatus(schedule.active),
    ref_patient: firstIdOf(schedule.actor, 'Patient'),
    ref_practitioner: firstIdOf(schedule.actor, 'Practitioner'),
    ref_location: firstIdOf(schedule.actor, 'Location'),
  }),
};
