/** Appointment (https://hl7.org/fhir/R4/appointment.html): booked, cancelled and past visits. */
import type { Appointment, Reference, Resource } from '@medplum/fhirtypes';
import { APPOINTMENT_ACTOR_TYPES, appointmentSearch } from '../../src/store/search-parameters/appointment.js';
import { parseReference } from '../../src/store/reference-key.js';
import { LAST_UPDATED_SORT, ID_SORT, literalReferences } from './common-sorts.js';
import type { ResourceDefinition, SortDefinition } from './resource-definition.js';

const DATE_SORT: SortDefinition = {
  name: 'date',
  expressions: [{ kind: 'column', column: 'period_start' }],
};

/** The participants' actors, all of them or those of one type. */
function actors(resource: Resource, type?: string): Reference[] {
  if (resource.resourceType !== 'Appointment') return [];
  const appointment: Appointment = resource;
  return literalReferences(appointment.participant?.map((p) => p.actor) ?? []).filter(
    (ref) => type === undefined || parseReference(ref)?.type === type,
  );
}

export const appointmentDefinition: ResourceDefinition = {
  type: 'Appointment',
  documentation:
    'Appointments in the records system, past and future, as last synced. A visit the front desk hard-deleted answers 410 Gone.',
  interactions: ['read', 'vread', 'search-type', 'history-instance', 'history-type'],
  searchParams: appointmentSearch.parameters,
  sorts: [ID_SORT, LAST_UPDATED_SORT, DATE_SORT],
  defaultSort: [{ sort: DATE_SORT, descending: false }],
  includes: [
    { name: 'patient', targetTypes: ['Patient'], references: (r) => actors(r, 'Patient') },
    { name: 'practitioner', targetTypes: ['Practitioner'], references: (r) => actors(r, 'Practitioner') },
    { name: 'location', targetTypes: ['Location'], references: (r) => actors(r, 'Location') },
    { name: 'actor', targetTypes: APPOINTMENT_ACTOR_TYPES, references: (r) => actors(r) },
  ],
  revIncludes: [],
  summaryElements: [
    'identifier',
    'status',
    'cancelationReason',
    'serviceCategory',
    'serviceType',
    'specialty',
    'appointmentType',
    'reasonCode',
    'start',
    'end',
    'participant',
  ],
  mandatoryElements: ['status', 'participant'],
};
