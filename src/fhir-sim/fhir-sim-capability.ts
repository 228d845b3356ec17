/**
 * The FHIR simulator's CapabilityStatement (`GET /firm/{firm}/fhir/metadata`): what a connector can discover about
 * it, said the way vendors say it — search parameters listed per resource, the Slot window limit in the Slot
 * resource's `documentation` (there is no standard element for it), no Slot resource at all when it publishes
 * none (quirk `noSlots`), and `$find`/`$book` only when they are switched on (quirk `findAndBook`).
 */
import type { CapabilityStatement } from '@medplum/fhirtypes';
import type { FhirSimQuirks } from './fhir-sim-quirks.js';

const search = (...names: string[]) => names.map((name) => ({ name, type: 'token' as const }));

export function fhirSimCapabilityStatement(quirks: FhirSimQuirks, now: Date): CapabilityStatement {
  const interactions = (...codes: Array<'read' | 'search-type' | 'create' | 'update' | 'delete'>) =>
    codes.map((code) => ({ code }));
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: now.toISOString(),
    kind: 'instance',
    software: { name: 'Switchboard FHIR records-system simulator (Medplum fhir-router)' },
    fhirVersion: '4.0.1',
    format: ['json'],
    rest: [
      {
        mode: 'server',
        ...(quirks.findAndBook
          ? {
              operation: [
                { name: 'find', definition: 'http://example.org/fhir/OperationDefinition/appointment-find' },
                { name: 'book', definition: 'http://example.org/fhir/OperationDefinition/appointment-book' },
              ],
            }
          : {}),
        security: { service: [{ coding: [{ code: 'OAuth' }] }] },
        resource: [
          {
            type: 'Patient',
            interaction: interactions('read', 'search-type', 'create', 'update'),
            searchParam: search('_id', '_lastUpdated', 'family', 'given', 'birthdate', 'phone', 'identifier'),
          },
          {
            type: 'Practitioner',
            interaction: interactions('read', 'search-type'),
            searchParam: search('_id'),
          },
          { type: 'Location', interaction: interactions('read', 'search-type'), searchParam: search('_id') },
          {
            type: 'Schedule',
            interaction: interactions('read', 'search-type'),
            searchParam: search('_id', 'actor'),
          },
          // A server without Slots (quirk `noSlots`) does not list the resource at all.
          ...(quirks.noSlots
            ? []
            : [
                {
                  type: 'Slot' as const,
                  interaction: interactions('read', 'search-type'),
                  documentation: `Slot searches must bound start both ways and span at most ${quirks.slotSearchMaxDays} days.`,
                  searchParam: search('schedule', 'start', 'status'),
                },
              ]),
          {
            type: 'Appointment',
            interaction: interactions('read', 'search-type', 'create', 'update', 'delete'),
            searchParam: search(
              '_id',
              '_lastUpdated',
              'date',
              'patient',
              'practitioner',
              'identifier',
              'status',
            ),
          },
        ],
      },
    ],
  };
}
