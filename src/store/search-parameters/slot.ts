/**
 * Slot search (https://hl7.org/fhir/R4/slot.html#search). The store holds the `busy-unavailable` Slots synced
 * from blocks and closures; the facade merges computed free Slots into the same search, applying these same
 * parameters to them.
 *
 * R4 has no Slot parameter for the practitioner or location (they are the Schedule's actors, and chained
 * `schedule.actor=` is not supported), so Switchboard defines `practitioner` and `location`: each matches the Slots
 * of the Schedules that have that actor.
 */
import type { ResourceType, Slot } from '@medplum/fhirtypes';
import { referenceKey } from '../reference-key.js';
import { firstIdOf, toUtcIso } from './column-values.js';
import { ID_PARAM, codeParam } from './common-parameters.js';
import {
  r4SearchParameter,
  switchboardSearchParameter,
  type ResourceSearchSpec,
  type SearchParamDefinition,
} from './search-parameter.js';
import { codeTokens, identifierTokens } from './token-values.js';

/** `practitioner` / `location`: Slots of the Schedules whose actors include it. */
function scheduleActorParam(type: 'Practitioner' | 'Location'): SearchParamDefinition<Slot> {
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

export const slotSearch: ResourceSearchSpec<Slot> = {
  resourceType: 'Slot',
  parameters: [
    ID_PARAM,
    {
      name: 'schedule',
      type: 'reference',
      definition: r4SearchParameter('Slot-schedule'),
      documentation: 'The Schedule the slot belongs to: Schedule/id or a bare id.',
      target: { kind: 'reference-column', column: 'ref_schedule' },
      targetTypes: ['Schedule'],
      // Also written as tokens, as the index always held them, though searches read the column.
      tokens: (slot) => [referenceKey(slot.schedule)],
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
      (slot) => slot.serviceType,
    ),
    scheduleActorParam('Practitioner'),
    scheduleActorParam('Location'),
  ],
  indexedTokens: [
    { name: 'service-category', tokens: (slot) => codeTokens(slot.serviceCategory) },
    { name: 'specialty', tokens: (slot) => codeTokens(slot.specialty) },
    { name: 'appointment-type', tokens: (slot) => codeTokens(slot.appointmentType) },
    { name: 'identifier', tokens: (slot) => identifierTokens(slot.identifier) },
  ],
  columns: (slot) => ({
    period_start: toUtcIso(slot.start),
    period_end: toUtcIso(slot.end),
    status: slot.status ?? null,
    ref_schedule: firstIdOf([slot.schedule], 'Schedule'),
  }),
};
