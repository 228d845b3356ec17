/**
 * Slot (https://hl7.org/fhir/R4/slot.html). The store holds the `busy-unavailable` Slots synced from blocks and
 * closures; computed free Slots come from further {@link SearchSource}s merged into the same search (see
 * `fhir/search/search-sources.ts`, `computed-slot-source.ts`), which is why Slot sorts only by `start`: every
 * source can honour it.
 *
 * R4 has no Slot parameter for the practitioner or location (they are the Schedule's actors, and chained
 * `schedule.actor=` is not supported), so Switchboard defines `practitioner` and `location`: each matches the Slots
 * of the Schedules that have that actor, in every source alike.
 */
import type { ResourceType } from '@medplum/fhirtypes';
import { ID_PARAM, ascending, codeParam, literalReferences } from './common-parameters.js';
import {
  r4SearchParameter,
  switchboardSearchParameter,
  type ResourceDefinition,
  type SearchParamDefinition,
  type SortDefinition,
} from './resource-definition.js';

const START_SORT: SortDefinition = {
  name: 'start',
  expressions: [{ kind: 'column', column: 'period_start' }],
};

/** `practitioner` / `location`: Slots of the Schedules whose actors include it. */
function scheduleActorParam(type: 'Practitioner' | 'Location'): SearchParamDefinition {
  const name = type.toLowerCase();
  const targetTypes: readonly ResourceType[] = [type];
  return {
    name,
    type: 'reference',
    definition: switchboardSearchParameter(`Slot-${name}`),
    documentation: `Switchboard parameter: Slots of the Schedules whose actor is this ${name} (Schedule.actor), ${type}/id or a bare id; comma-separated values match any. Equivalent to the chain schedule.actor:${type}=…, which R4 servers rarely support.`,
    target: {
      kind: 'referenced-reference',
      column: 'ref_schedule',
      resourceType: 'Schedule',
      param: 'actor',
    },
    targetTypes,
  };
}

export const slotDefinition: ResourceDefinition = {
  type: 'Slot',
  documentation:
    "Time on a schedule. free Slots are computed on each request from the synced working hours, appointment types, blocks and appointments and the bookings in flight: from now plus the minimum notice up to the booking horizon, one Slot per schedule, start and duration (the duration of the appointment types in serviceType), with an id that stays the same and can be read and booked. busy-unavailable Slots are the practice's blocks and closures (vacations, meetings, holidays). R4 has no end parameter: bound a window with start=ge…&start=lt…; ask by practitioner, location and appointment type with practitioner=, location= and service-type=.",
  interactions: ['read', 'vread', 'search-type', 'history-instance', 'history-type'],
  searchParams: [
    ID_PARAM,
    {
      name: 'schedule',
      type: 'reference',
      definition: r4SearchParameter('Slot-schedule'),
      documentation: 'The Schedule the slot belongs to: Schedule/id or a bare id.',
      target: { kind: 'reference-column', column: 'ref_schedule' },
      targetTypes: ['Schedule'],
    },
    {
      name: 'start',
      type: 'date',
      definition: r4SearchParameter('Slot-start'),
      documentation:
        'When the slot starts (a point in time); prefixes eq ne gt lt ge le sa eb; a date without a zone is read in the practice zone (start=2026-11-24 is that whole local day). Free slots are only computed inside the window the start criteria bound.',
      target: { kind: 'instant', column: 'period_start' },
    },
    {
      name: 'status',
      type: 'token',
      definition: r4SearchParameter('Slot-status'),
      documentation: 'busy | free | busy-unavailable | busy-tentative | entered-in-error.',
      target: { kind: 'column-token', column: 'status', system: 'http://hl7.org/fhir/slotstatus' },
    },
    codeParam(
      'service-type',
      'Slot-service-type',
      "An appointment type the slot can be booked for (the practice's appointment type codes, as on Schedule.serviceType)",
    ),
    scheduleActorParam('Practitioner'),
    scheduleActorParam('Location'),
  ],
  sorts: [START_SORT],
  defaultSort: ascending(START_SORT),
  includes: [
    {
      name: 'schedule',
      targetTypes: ['Schedule'],
      references: (r) => (r.resourceType === 'Slot' ? literalReferences([r.schedule]) : []),
    },
  ],
  revIncludes: [],
  summaryElements: [
    'identifier',
    'serviceCategory',
    'serviceType',
    'specialty',
    'appointmentType',
    'schedule',
    'status',
    'start',
    'end',
  ],
  mandatoryElements: ['schedule', 'status', 'start', 'end'],
};
