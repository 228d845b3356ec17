/**
 * Slot (https://hl7.org/fhir/R4/slot.html). The store holds the `busy-unavailable` Slots synced from blocks and
 * closures; computed free Slots come from further {@link SearchSource}s merged into the same search (see
 * `fhir/search/search-sources.ts`, `computed-slot-source.ts`), which is why Slot sorts only by `start`: every
 * source can honour it.
 *
 * Its search parameters, Switchboard's own `practitioner` and `location` among them, are the spec's
 * (`src/store/search-parameters/slot.ts`); every source applies them alike.
 */
import { slotSearch } from '../../src/store/search-parameters/slot.js';
import { ascending, literalReferences } from './common-sorts.js';
import type { ResourceDefinition, SortDefinition } from './resource-definition.js';

const START_SORT: SortDefinition = {
  name: 'start',
  expressions: [{ kind: 'column', column: 'period_start' }],
};

export const slotDefinition: ResourceDefinition = {
  type: 'Slot',
  documentation:
    "Time on a schedule. free Slots are computed on each request from the synced working hours, appointment types, blocks and appointments and the bookings in flight: from now plus the minimum notice up to the booking horizon, one Slot per schedule, start and duration (the duration of the appointment types in serviceType), with an id that stays the same and can be read and booked. busy-unavailable Slots are the practice's blocks and closures (vacations, meetings, holidays). R4 has no end parameter: bound a window with start=ge…&start=lt…; ask by practitioner, location and appointment type with practitioner=, location= and service-type=.",
  interactions: ['read', 'vread', 'search-type', 'history-instance', 'history-type'],
  searchParams: slotSearch.parameters,
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
