/**
 * Task search (https://hl7.org/fhir/R4/task.html#search): the manual-intervention items booking opens for the
 * practice's staff (DESIGN.md section 4, "Truthful answers"), found by status, by the appointment they are about
 * (`focus`) and by patient.
 */
import type { Task } from '@medplum/fhirtypes';
import { referenceKey } from '../reference-key.js';
import { firstIdOf } from './column-values.js';
import { ID_PARAM, LAST_UPDATED_PARAM, identifierParam } from './common-parameters.js';
import { r4SearchParameter, type ResourceSearchSpec } from './search-parameter.js';

export const taskSearch: ResourceSearchSpec<Task> = {
  resourceType: 'Task',
  parameters: [
    ID_PARAM,
    LAST_UPDATED_PARAM,
    identifierParam('Task-identifier', 'A task identifier, such as the booking saga it was opened for'),
    {
      name: 'status',
      type: 'token',
      definition: r4SearchParameter('Task-status'),
      documentation:
        'draft | requested | received | accepted | rejected | ready | cancelled | in-progress | on-hold | failed | completed | entered-in-error.',
      target: { kind: 'column-token', column: 'status', system: 'http://hl7.org/fhir/task-status' },
    },
    {
      name: 'focus',
      type: 'reference',
      definition: r4SearchParameter('Task-focus'),
      documentation: 'What the task is about (the Appointment): Appointment/id or a bare id.',
      target: { kind: 'reference-token', param: 'focus' },
      targetTypes: ['Appointment'],
      tokens: (task) => [referenceKey(task.focus)],
    },
    {
      name: 'patient',
      type: 'reference',
      definition: r4SearchParameter('Task-patient'),
      documentation: 'The patient the task is for (Task.for): Patient/id or a bare id.',
      target: { kind: 'reference-token', param: 'patient' },
      targetTypes: ['Patient'],
      tokens: (task) => [referenceKey(task.for)].filter((key) => key?.startsWith('Patient/')),
    },
  ],
  indexedTokens: [],
  columns: (task) => ({
    status: task.status ?? null,
    ref_patient: firstIdOf([task.for], 'Patient'),
  }),
};
