/**
 * Slot (https://hl7.org/fhir/R4/slot.html). The store holds the `busy-unavailable` Slots synced from blocks and
 * closures; computed free Slots come from further {@link SearchSource}s merged into the same search (see
 * `fhir/search/search-sources.ts`), which is why Slot sorts only by `start`: every source can honour it.
 */
import { ID_PARAM, ascending, codeParam, literalReferences } from './common-parameters.js';
import { r4SearchParameter, type ResourceDefinition, type SortDefinition } from './resource-definition.js';

const START_SORT: SortDefinition = {
  name: 'start',
  expressions: [{ kind: 'column', column: 'period_start' }],
};

export const slotDefinition: ResourceDefinition = {
  type: 'Slot',
  documentation:
    "Time on a schedule. busy-unavailable Slots are the practice's blocks and closures (vacations, meetings, holidays). R4 has no end parameter: bound a window with start=ge…&start=lt….",
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
        'When the slot starts (a point in time); prefixes eq ne gt lt ge le sa eb; a date without a zone is read in the practice zone (start=2026-11-24 is that whole local day).',
      target: { kind: 'instant', column: 'period_start' },
    },
    {
      name: 'status',
      type: 'token',
      definition: r4SearchParameter('Slot-status'),
      documentation: 'busy | free | busy-unavailable | busy-tentative | entered-in-error.',
      target: { kind: 'column-token', column: 'status', system: 'http://hl7.org/fhir/slotstatus' },
    },
    codeParam('service-type', 'Slot-service-type', 'An appointment type the slot can be booked for'),
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
