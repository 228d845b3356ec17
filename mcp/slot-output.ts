/**
 * A bookable time as every tool says it (issue 13: `{slot_id, start, start_local_text, practitioner, location,
 * appointment_type}`), from a facade Slot — a `find_slots` answer or a booking failure's alternatives.
 */
import type { Slot } from '@medplum/fhirtypes';
import { z } from 'zod';
import { instantToOffsetDateTime } from '../src/wall-time.js';
import type { PracticeDirectory } from './practice-directory.js';
import { spokenTime } from './tool-context.js';

export const slotSchema = z.object({
  slot_id: z
    .string()
    .describe(
      'What book_appointment and reschedule_appointment take: the FHIR Slot id and the type, `{slot}:{type}`',
    ),
  start: z.string().describe("ISO 8601 with the practice's offset"),
  end: z.string(),
  start_local_text: z.string().describe('Speakable local time: "Tuesday, December 8 at 2:30 PM"'),
  practitioner: z.string(),
  practitioner_id: z.string(),
  location: z.string(),
  location_id: z.string(),
  appointment_type: z.string().describe('Appointment type code'),
});

export type SlotOutput = z.infer<typeof slotSchema>;

/**
 * A tool's slot_id is the facade's Slot id with the appointment type found for it: a 30-minute slot fits an
 * annual physical and a procedure consultation alike, and the agent should book what it was offered without
 * repeating the type. `:` never occurs in a FHIR id, so the split is unambiguous.
 */
const TYPE_SEPARATOR = ':';

/** The FHIR Slot id and the type code (when given) of a tool's slot_id. */
export function readSlotId(slotId: string): { fhirSlotId: string; typeCode?: string } {
  const at = slotId.lastIndexOf(TYPE_SEPARATOR);
  if (at < 0) return { fhirSlotId: slotId };
  return { fhirSlotId: slotId.slice(0, at), typeCode: slotId.slice(at + 1) };
}

export function slotOutput(
  slot: Slot,
  directory: PracticeDirectory,
  typeCode?: string,
): SlotOutput | undefined {
  const scheduleId = slot.schedule.reference?.replace(/^Schedule\//, '').replace(/^#/, '');
  const schedule = directory.schedules.find((s) => s.id === scheduleId);
  if (!slot.id || !schedule) return undefined;
  const code =
    typeCode ?? slot.serviceType?.[0]?.coding?.[0]?.code ?? slot.appointmentType?.coding?.[0]?.code ?? '';
  return {
    slot_id: code ? `${slot.id}${TYPE_SEPARATOR}${code}` : slot.id,
    start: instantToOffsetDateTime(new Date(slot.start), directory.zone),
    end: instantToOffsetDateTime(new Date(slot.end), directory.zone),
    start_local_text: spokenTime(new Date(slot.start), directory.zone),
    practitioner: directory.practitioner(schedule.practitionerId)?.name ?? schedule.practitionerId,
    practitioner_id: schedule.practitionerId,
    location: directory.location(schedule.locationId)?.name ?? schedule.locationId,
    location_id: schedule.locationId,
    appointment_type: code,
  };
}
