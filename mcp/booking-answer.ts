/**
 * A booking, reschedule or cancel answer of the facade as the booking tools say it (issue 13): `booked` for
 * 201/200 (a replayed Idempotency-Key or the keyless identical retry answer with the appointment already made),
 * `pending` for the saga's 202 `booking-pending` (the outcome is not known yet: the same idempotency key gives it
 * later), `not_booked` with Switchboard's precise reason code, its patient-safe sentence and the alternative Slots
 * the OperationOutcome carries (fhir/booking/booking-outcome.ts). A scope refusal is a tool error, not an outcome.
 */
import type { Appointment, OperationOutcome, Slot } from '@medplum/fhirtypes';
import { z } from 'zod';
import type { FhirResponse } from '../fhir/fhir-request.js';
import { failed, outcomeCode, outcomeText } from './fhir-caller.js';
import type { PracticeDirectory } from './practice-directory.js';
import { slotOutput, slotSchema, type SlotOutput } from './slot-output.js';
import { spokenTime } from './tool-context.js';

export const bookingOutputSchema = {
  status: z.enum(['booked', 'pending', 'not_booked']),
  appointment_id: z.string().optional(),
  start: z.string().optional(),
  start_local_text: z.string().optional(),
  reason_code: z
    .string()
    .optional()
    .describe(
      'Why not booked (or pending): slot-taken, too-soon, in-the-past, new-patients-only, ehr-unavailable, …',
    ),
  message: z.string().describe('A sentence safe to read to the patient'),
  alternatives: z.array(slotSchema).describe('Free times to offer instead'),
};

export interface BookingAnswer {
  [key: string]: unknown;
  status: 'booked' | 'pending' | 'not_booked';
  appointment_id?: string;
  start?: string;
  start_local_text?: string;
  reason_code?: string;
  message: string;
  alternatives: SlotOutput[];
}

export function bookingAnswer(
  answer: FhirResponse,
  directory: PracticeDirectory,
  doing: string,
  typeCode?: string,
): BookingAnswer {
  if (answer.status === 200 || answer.status === 201) {
    const appointment = answer.body as Appointment;
    return {
      status: 'booked',
      ...(appointment.id ? { appointment_id: appointment.id } : {}),
      ...(appointment.start
        ? { start: appointment.start, start_local_text: spokenTime(appointment.start, directory.zone) }
        : {}),
      message: appointment.start
        ? `You are booked for ${spokenTime(appointment.start, directory.zone)}.`
        : 'You are booked.',
      alternatives: [],
    };
  }
  if (answer.status === 401 || answer.status === 403) throw failed(answer, doing);
  const outcome = answer.body as OperationOutcome | undefined;
  const alternatives = (outcome?.contained ?? [])
    .filter((r): r is Slot => r.resourceType === 'Slot')
    .flatMap((s) => slotOutput(s, directory, typeCode) ?? []);
  if (answer.status === 202) {
    const location = answer.headers?.Location ?? answer.headers?.location;
    const id = location ? /Appointment\/([^/]+)/.exec(location)?.[1] : undefined;
    return {
      status: 'pending',
      ...(id ? { appointment_id: id } : {}),
      reason_code: outcomeCode(answer),
      message: outcomeText(answer),
      alternatives,
    };
  }
  return {
    status: 'not_booked',
    reason_code: outcomeCode(answer),
    message: outcomeText(answer),
    alternatives,
  };
}

/** The speakable sentence of a booking answer. */
export function speakBooking(answer: BookingAnswer): string {
  if (answer.status !== 'not_booked') return answer.message;
  const first = answer.alternatives[0];
  return first ? `${answer.message} ${first.start_local_text} is free instead.` : answer.message;
}
