/** Appointment search (https://hl7.org/fhir/R4/appointment.html#search): booked, cancelled and past visits. */
import type { Appointment } from '@medplum/fhirtypes';
import { referenceKey } from '../reference-key.js';
import { firstIdOf, toUtcIso } from './column-values.js';
import {
  ACTOR_TYPES,
  ID_PARAM,
  LAST_UPDATED_PARAM,
  codeParam,
  identifierParam,
} from './common-parameters.js';
import {
  r4SearchParameter,
  type ResourceSearchSpec,
  type SearchParamDefinition,
} from './search-parameter.js';
import { codeTokens } from './token-values.js';

/** R4 `Appointment.participant.actor` targets. */
export const APPOINTMENT_ACTOR_TYPES = ACTOR_TYPES;

/** `Type/id` of every participant's actor, or of those of one type. */
function actorKeys(appointment: Appointment, type?: string): string[] {
  return (appointment.participant ?? []).flatMap((participant) => {
    const key = referenceKey(participant.actor);
    return key !== undefined && (type === undefined || key.startsWith(`${type}/`)) ? [key] : [];
  });
}

function participantParam(type: 'Patient' | 'Practitioner' | 'Location'): SearchParamDefinition<Appointment> {
  const name = type.toLowerCase();
  return {
    name,
    type: 'reference',
    definition: r4SearchParameter(`Appointment-${name}`),
    documentation: `A ${name} taking part: ${type}/id or a bare id.`,
    target: { kind: 'reference-token', param: name },
    targetTypes: [type],
    tokens: (appointment) => actorKeys(appointment, type),
  };
}

export const appointmentSearch: ResourceSearchSpec<Appointment> = {
  resourceType: 'Appointment',
  parameters: [
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
      targetTypes: APPOINTMENT_ACTOR_TYPES,
      tokens: (appointment) => actorKeys(appointment),
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
    codeParam(
      'service-type',
      'Appointment-service-type',
      'The service booked (the appointment type)',
      (appointment) => appointment.serviceType,
    ),
    codeParam(
      'appointment-type',
      'Appointment-appointment-type',
      'The appointment type',
      (appointment) => appointment.appointmentType,
    ),
    codeParam('specialty', 'Appointment-specialty', 'The specialty', (appointment) => appointment.specialty),
    {
      name: 'slot',
      type: 'reference',
      definition: r4SearchParameter('Appointment-slot'),
      documentation: 'A Slot the appointment was booked into: Slot/id or a bare id.',
      target: { kind: 'reference-token', param: 'slot' },
      targetTypes: ['Slot'],
      tokens: (appointment) => (appointment.slot ?? []).map(referenceKey),
    },
  ],
  indexedTokens: [
    { name: 'service-category', tokens: (appointment) => codeTokens(appointment.serviceCategory) },
  ],
  // The first patient, practitioner and location taking part; further participants are found through tokens.
  columns: (appointment) => {
    const actors = (appointment.participant ?? []).map((p) => p.actor);
    return {
      period_start: toUtcIso(appointment.start),
      period_end: toUtcIso(appointment.end),
      status: appointment.status ?? null,
      ref_patient: firstIdOf(actors, 'Patient'),
      ref_practitioner: firstIdOf(actors, 'Practitioner'),
      ref_location: firstIdOf(actors, 'Location'),
    };
  },
};
