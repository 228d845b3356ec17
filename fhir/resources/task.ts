/**
 * Task (https://hl7.org/fhir/R4/task.html): manual-intervention items for the practice's staff, opened by booking
 * when it cannot finish or undo a change in the records system by itself (DESIGN.md section 4). Read-only here.
 */
import { taskSearch } from '../../src/store/search-parameters/task.js';
import { ID_SORT, LAST_UPDATED_SORT, ascending } from './common-sorts.js';
import type { ResourceDefinition } from './resource-definition.js';

export const taskDefinition: ResourceDefinition = {
  type: 'Task',
  documentation:
    'Manual-intervention items for the practice staff: a booking change Switchboard could not finish or undo ' +
    'in the records system (focus: the Appointment; for: the Patient; reasonCode and note: why).',
  interactions: ['read', 'vread', 'search-type', 'history-instance', 'history-type'],
  searchParams: taskSearch.parameters,
  sorts: [ID_SORT, LAST_UPDATED_SORT],
  defaultSort: ascending(ID_SORT),
  includes: [],
  revIncludes: [],
  summaryElements: [
    'instantiatesCanonical',
    'instantiatesUri',
    'basedOn',
    'groupIdentifier',
    'partOf',
    'status',
    'statusReason',
    'businessStatus',
    'intent',
    'code',
    'description',
    'focus',
    'for',
    'encounter',
    'executionPeriod',
    'lastModified',
    'requester',
    'owner',
    'location',
  ],
  mandatoryElements: ['status', 'intent'],
};
