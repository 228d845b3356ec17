/** Appointment (https://hl7.org/fhir/R4/appointment.html): booked, cancelled and past visits. */
import type { Appointment, Reference, Resource, ResourceType } from '@medplum/fhirtypes';
import { parseReference } from '../../src/store/reference-key.js';
import {
  ID_PARAM,
  LAST_UPDATED_PARAM,
  LAST_UPDATED_SORT,
  ID_SORT,
  codeParam,
  identifierParam,
  literalReferences,
} from './common-parameters.js';
import { r4SearchParameter, type ResourceDefinition, type SortDefinition } from './resource-definition.js';

/** R4 `Appointment.participant.actor` targets. */
const ACTOR_TYPES: readonly ResourceType[] = [
  'Patient',
  'Practitioner',
  'PractitionerRole',
  'RelatedPerson',
  'Device',
  'HealthcareService',
  'Location',
];

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

function participantParam(type: 'Patient' | 'Practitioner' | 'Location') {
  const name = type.toLowerCase();
  return {
    name,
    type: 'reference' as const,
    definition: r4SearchParameter(`Appointment-${name}`),
    documentation: `A ${name} taking part: ${type}/id or a bare id.`,
    target: { kind: 'reference-token' as const, param: name },
    targetTypes: [type],
  };
}

export const appointmentDefinition: ResourceDefinition = {
  type: 'Appointment',
  documentation:
    'Appointments in the records system, past and future, as last synced. A visit the front desk hard-deleted answers 410 Gone.',
  interactions: ['read', 'vread', 'search-type', 'history-instance', 'history-type'],
  searchParams: [
    ID_PARAM,
    LAST_UPDATED_PARAM,
    identifierParam(
      'Appointment-identifier',
      "An appointment identifier, such as Switchboard's booking marker",
    ),
    participantParam('Patient'),
    participantParam('Practitioner'),
    participantParam('Location'),
    {
      name: 'actor',
      type: 'reference',
      definition: r4SearchParameter('Appointment-actor'),
      documentation: 'Any participant: Type/id, or a bare id; :Patient, :Practitioner… narrow the type.',
      target: { kind: 'reference-token', param: 'actor' },
      targetTypes: ACTOR_TYPES,
    },
    {
      name: 'date',
      type: 'date',
      definition: r4SearchParameter('Appointment-date'),
      documentation:
        'Appointment.start (a point in time); prefixes eq ne gt lt ge le sa eb; a date without a zone is read in the practice zone (date=2026-11-24 is that whole local day).',
      target: { kind: 'instant', column: 'period_start' },
    },
    {
      name: 'status',
      type: 'token',
      definition: r4SearchParameter('Appointment-status'),
      documentation:
        'proposed | pending | booked | arrived | fulfilled | cancelled | noshow | entered-in-error | checked-in | waitlist.',
      target: {
        kind: 'column-token',
        column: 'status',
        system: 'http://hl7.org/fhir/appointmentstatus',
      },
    },
    codeParam('service-type', 'Appointment-service-type', 'The service booked (the appointment type)'),
    codeParam('appointment-type', 'Appointment-appointment-type', 'The appointment type'),
    codeParam('specialty', 'Appointment-specialty', 'The specialty'),
    {
      name: 'slot',
      type: 'reference',
      definition: r4SearchParameter('Appointment-slot'),
      documentation: 'A Slot the appointment was booked into: Slot/id or a bare id.',
      target: { kind: 'reference-token', param: 'slot' },
      targetTypes: ['Slot'],
    },
  ],
  sorts: [ID_SORT, LAST_UPDATED_SORT, DATE_SORT],
  defaultSort: [{ sort: DATE_SORT, descending: false }],
  includes: [
    { name: 'patient', targetTypes: ['Patient'], references: (r) => actors(r, 'Patient') },
    { name: 'practitioner', targetTypes: ['Practitioner'], references: (r) => actors(r, 'Practitioner') },
    { name: 'location', targetTypes: ['Location'], references: (r) => actors(r, 'Location') },
    { name: 'actor', targetTypes: ACTOR_TYPES, references: (r) => actors(r) },
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
