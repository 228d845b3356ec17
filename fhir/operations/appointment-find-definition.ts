/**
 * The OperationDefinition of `Appointment/$find` (IHE ITI-115, as Switchboard serves it), beside the operation
 * (appointment-find.ts) so that file stays about finding.
 */
import { inParameter, outParameter, type OperationSpec } from './operation-definition.js';

export const FIND_DEFINITION: OperationSpec = {
  id: 'appointment-find',
  url: 'https://profiles.ihe.net/ITI/Scheduling/OperationDefinition/appointment-find',
  name: 'AppointmentFind',
  title: 'Find potential appointments (IHE ITI-115)',
  code: 'find',
  resource: ['Appointment'],
  system: false,
  type: true,
  instance: false,
  affectsState: false,
  description:
    'Proposed Appointments for free computed slots, earliest first: POST a Parameters body, or GET with the same names as query parameters (commas separate alternatives). Different parameters are ANDed, repeated values ORed; other IHE inputs are accepted and ignored with a warning.',
  parameter: [
    inParameter(
      'start',
      '1..1',
      'dateTime',
      'Earliest start: a date-time with a zone, or a date in the practice zone.',
    ),
    inParameter(
      'end',
      '1..1',
      'dateTime',
      'Latest start; a date includes that day. At most 62 days after start.',
    ),
    inParameter(
      'specialty',
      '0..*',
      'CodeableConcept',
      'system|code (SNOMED CT clinical specialty, or the practice code) matches a Schedule specialty coding; a bare value matches a code or the text.',
    ),
    inParameter('visit-type', '0..*', 'CodeableConcept', 'Appointment type: code or system|code.'),
    inParameter('service-type', '0..*', 'CodeableConcept', 'Same as visit-type.'),
    inParameter(
      'practitioner',
      '0..*',
      'Reference',
      'Practitioner/[id], or by identifier (valueReference.identifier; GET: practitioner:identifier=system|value, e.g. an NPI). One naming no known Practitioner is refused (422).',
    ),
    inParameter(
      'location-reference',
      '0..*',
      'Reference',
      'Location/[id] or by identifier, like practitioner.',
    ),
    inParameter('location', '0..*', 'Reference', 'Same as location-reference.'),
    inParameter('patient-reference', '0..1', 'Reference', 'Patient/[id]: only times the patient is free.'),
    inParameter('patient', '0..1', 'Reference', 'Same as patient-reference.'),
    inParameter(
      '_count',
      '0..1',
      'integer',
      'Page size: default 20, at most 100 (in the body or the URL); Bundle.link next pages on.',
    ),
    outParameter(
      'return',
      '1..1',
      'Bundle',
      'A searchset Bundle (IHE ihe-sched-avail-bundle) of proposed Appointments; total counts all; link next pages on.',
    ),
  ],
};
