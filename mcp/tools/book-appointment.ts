/**
 * `book_appointment`: books a slot from `find_slots` for a patient, through `POST Appointment` — the same saga as
 * the FHIR API (hold, live re-check, write, verify), the same `Idempotency-Key` (from `idempotency_key`), the same
 * 202 `booking-pending` when the records system is slow, the same keyless identical-retry rule (an agent platform
 * retrying after its time-out gets the appointment already made, not a conflict).
 */
import type { Appointment } from '@medplum/fhirtypes';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { parseSlotId } from '../../src/availability/slot-id.js';
import { bookingAnswer, bookingOutputSchema, speakBooking } from '../booking-answer.js';
import {
  loadPracticeDirectory,
  type AppointmentTypeEntry,
  type PracticeDirectory,
  type ScheduleEntry,
} from '../practice-directory.js';
import { readSlotId } from '../slot-output.js';
import { requireScopes, type ToolContext } from '../tool-context.js';
import { ToolError } from '../tool-error.js';
import { toolResult } from '../tool-result.js';

/** As the FHIR API takes `Idempotency-Key` (fhir/booking/idempotency.ts): 16–255 visible ASCII characters. */
export const idempotencyKeyInput = z
  .string()
  .regex(/^[\x21-\x7e]{16,255}$/, 'a UUID or another 16–255 visible ASCII characters')
  .optional()
  .describe('A UUID, the same on every retry of the same request: it is carried out once');

export function registerBookAppointment(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'book_appointment',
    {
      title: 'Book an appointment',
      description:
        'Books a slot_id from find_slots for patient_id. Answers status booked / pending (the records system is slow: call again with the same idempotency_key) / not_booked with reason_code, a patient-safe message and alternatives.',
      inputSchema: {
        patient_id: z.string().min(1),
        slot_id: z.string().min(1).describe('A slot_id from find_slots'),
        appointment_type: z
          .string()
          .optional()
          .describe('Code or plain name; needed only when several types fit the slot'),
        reason: z.string().max(500).optional().describe('Why the patient is coming, in their words'),
        idempotency_key: idempotencyKeyInput,
      },
      outputSchema: bookingOutputSchema,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    },
    async (args) => {
      requireScopes(ctx, 'book_appointment', [
        ['Appointment', 'cr'],
        ['Schedule', 'rs'],
        ['Practitioner', 'rs'],
        ['Location', 'rs'],
      ]);
      const directory = await loadPracticeDirectory(ctx.fhir, ctx.tenant.timezone);
      const { schedule, minutes, fhirSlotId, typeCode } = slotOf(args.slot_id, directory);
      const type = typeForSlot(directory, schedule, minutes, args.appointment_type ?? typeCode);
      const body: Appointment = {
        resourceType: 'Appointment',
        status: 'booked',
        slot: [{ reference: `Slot/${fhirSlotId}` }],
        appointmentType: { coding: [{ code: type.code, display: type.name }] },
        ...(args.reason ? { comment: args.reason } : {}),
        participant: [
          { actor: { reference: `Patient/${args.patient_id}` }, status: 'accepted' },
          { actor: { reference: `Practitioner/${schedule.practitionerId}` }, status: 'accepted' },
          { actor: { reference: `Location/${schedule.locationId}` }, status: 'accepted' },
        ],
      };
      const answer = await ctx.fhir.request('POST', 'Appointment', {
        body,
        headers: args.idempotency_key ? { 'idempotency-key': args.idempotency_key } : {},
      });
      const result = bookingAnswer(answer, directory, 'Booking', type.code);
      return toolResult(speakBooking(result), result);
    },
  );
}

/** The schedule and length a slot id names; a ToolError for an id that no find_slots answer could hold. */
export function slotOf(
  slotId: string,
  directory: PracticeDirectory,
): { schedule: ScheduleEntry; minutes: number; start: Date; fhirSlotId: string; typeCode?: string } {
  const { fhirSlotId, typeCode } = readSlotId(slotId);
  const parsed = parseSlotId(fhirSlotId);
  const schedule = parsed && directory.schedules.find((s) => s.id === parsed.scheduleId);
  if (!parsed || !schedule) {
    throw new ToolError(`"${slotId}" is not a slot_id of this practice; use a slot_id from find_slots.`);
  }
  return {
    schedule,
    minutes: parsed.minutes,
    start: parsed.start,
    fhirSlotId,
    ...(typeCode ? { typeCode } : {}),
  };
}

/** The appointment type to book into a slot of `minutes` on `schedule`. */
export function typeForSlot(
  directory: PracticeDirectory,
  schedule: ScheduleEntry,
  minutes: number,
  said: string | undefined,
): AppointmentTypeEntry {
  if (said) return directory.resolveType(said);
  const fitting = schedule.rules.types.filter((t) => t.minutes === minutes);
  const only = fitting.length === 1 ? directory.types.find((t) => t.code === fitting[0]?.code) : undefined;
  if (only) return only;
  throw new ToolError(
    `Several appointment types fit this slot (${fitting.map((t) => t.code).join(', ')}); pass appointment_type.`,
  );
}
