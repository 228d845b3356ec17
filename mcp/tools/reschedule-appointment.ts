/**
 * `reschedule_appointment`: moves a booked appointment to another slot of the same practitioner and location,
 * through `PUT Appointment/{id}` with the new start and end and the version just read (`If-Match`): one upstream
 * write through the reschedule saga, which moves it back if it loses a race. Another practitioner or location is
 * a cancel and a new booking, which the tool says rather than guesses.
 */
import type { Appointment } from '@medplum/fhirtypes';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { instantToOffsetDateTime } from '../../src/wall-time.js';
import { bookingAnswer, bookingOutputSchema, speakBooking } from '../booking-answer.js';
import { loadPracticeDirectory } from '../practice-directory.js';
import { requireScopes, type ToolContext } from '../tool-context.js';
import { ToolError } from '../tool-error.js';
import { toolResult } from '../tool-result.js';
import { idempotencyKeyInput, slotOf } from './book-appointment.js';

export function registerRescheduleAppointment(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'reschedule_appointment',
    {
      title: 'Reschedule an appointment',
      description:
        'Moves appointment_id to slot_id (from find_slots, same practitioner and location). Answers booked (at the new time) / pending / not_booked with reason_code, message and alternatives; when not booked the appointment keeps its old time.',
      inputSchema: {
        appointment_id: z.string().min(1),
        slot_id: z.string().min(1).describe('The new time: a slot_id from find_slots'),
        idempotency_key: idempotencyKeyInput,
      },
      outputSchema: bookingOutputSchema,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    },
    async (args) => {
      requireScopes(ctx, 'reschedule_appointment', [
        ['Appointment', 'ru'],
        ['Schedule', 'rs'],
        ['Practitioner', 'rs'],
        ['Location', 'rs'],
      ]);
      const directory = await loadPracticeDirectory(ctx.fhir, ctx.tenant.timezone);
      const current = await ctx.fhir.request('GET', `Appointment/${encodeURIComponent(args.appointment_id)}`);
      if (current.status !== 200) {
        const result = bookingAnswer(current, directory, 'Reading the appointment');
        return toolResult(speakBooking(result), result);
      }
      const appointment = current.body as Appointment;
      const { schedule, minutes, start } = slotOf(args.slot_id, directory);
      const actor = (type: string) =>
        appointment.participant.find((p) => p.actor?.reference?.startsWith(`${type}/`))?.actor?.reference;
      if (
        actor('Practitioner') !== `Practitioner/${schedule.practitionerId}` ||
        (actor('Location') !== undefined && actor('Location') !== `Location/${schedule.locationId}`)
      ) {
        throw new ToolError(
          'That slot is with another practitioner or location; a reschedule keeps both. Cancel with cancel_appointment and book the new time with book_appointment instead.',
        );
      }
      const end = new Date(start.getTime() + minutes * 60_000);
      const body: Appointment = {
        ...appointment,
        start: instantToOffsetDateTime(start, directory.zone),
        end: instantToOffsetDateTime(end, directory.zone),
        ...(appointment.minutesDuration !== undefined ? { minutesDuration: minutes } : {}),
      };
      const etag = current.headers?.ETag ?? current.headers?.etag;
      const answer = await ctx.fhir.request('PUT', `Appointment/${encodeURIComponent(args.appointment_id)}`, {
        body,
        headers: {
          ...(etag ? { 'if-match': etag } : {}),
          ...(args.idempotency_key ? { 'idempotency-key': args.idempotency_key } : {}),
        },
      });
      const result = bookingAnswer(
        answer,
        directory,
        'Rescheduling',
        appointment.appointmentType?.coding?.[0]?.code,
      );
      return toolResult(speakBooking(result), result);
    },
  );
}
