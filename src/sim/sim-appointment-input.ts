/**
 * Validation of `POST /appointments` and `PUT /appointments/{id}` bodies (DESIGN.md section 2).
 * Only shape and references are checked: the records system does **no conflict checking at all** (a front desk can
 * double-book, book outside hours, or book a type the provider does not offer). Preventing that is Switchboard's job.
 */
import { instantToWallTime, isWallTime, wallTimeToInstant } from '../wall-time.js';
import type { SimAppointmentInput, SimAppointmentStatus, SimFirmData } from './sim-types.js';
import { SIM_APPOINTMENT_STATUSES } from './sim-types.js';
import type { SimBody } from './sim-body-fields.js';
import { asBody, optionalNullableString, requiredPositiveInt, requiredString } from './sim-body-fields.js';
import { invalidRequest } from './sim-http-error.js';

/** The longest appointment the records system accepts: one day. */
const MAX_DURATION_MINUTES = 24 * 60;

/** A validated appointment write; `notes`/`externalRef`/`status` are `undefined` when the body left them out. */
export interface SimAppointmentWrite {
  input: SimAppointmentInput;
  status?: SimAppointmentStatus;
}

/**
 * The validated appointment fields of a write body, checked against the firm's records.
 * `allowStatus` is true for PUT, where the front desk may also move the status (confirmed, checked-in, …).
 */
export function parseAppointmentInput(
  rawBody: unknown,
  data: SimFirmData,
  allowStatus: boolean,
): SimAppointmentWrite {
  const body = asBody(rawBody);
  const patientId = existingId(body, 'patientId', data.patients);
  const providerId = existingId(body, 'providerId', data.providers);
  const locationId = existingId(body, 'locationId', data.locations);
  const appointmentTypeId = existingId(body, 'appointmentTypeId', data.appointmentTypes);
  const start = parseStart(requiredString(body, 'start'), data.timezone);
  const durationMinutes = requiredPositiveInt(body, 'durationMinutes');
  if (durationMinutes > MAX_DURATION_MINUTES) {
    throw invalidRequest('durationMinutes', `durationMinutes must be at most ${MAX_DURATION_MINUTES}`);
  }
  const input: SimAppointmentInput = {
    patientId,
    providerId,
    locationId,
    appointmentTypeId,
    start,
    durationMinutes,
  };
  const notes = optionalNullableString(body, 'notes');
  if (notes !== undefined) input.notes = notes;
  // Stored verbatim (not trimmed, not blank-to-null): Switchboard searches for its marker byte for byte.
  const externalRef = body.externalRef;
  if (externalRef !== undefined) {
    if (externalRef !== null && typeof externalRef !== 'string') {
      throw invalidRequest('externalRef', 'externalRef must be a string or null');
    }
    if (typeof externalRef === 'string' && externalRef.length > 200) {
      throw invalidRequest('externalRef', 'externalRef is longer than 200 characters');
    }
    input.externalRef = externalRef;
  }
  const write: SimAppointmentWrite = { input };
  if (body.status !== undefined) {
    if (!allowStatus)
      throw invalidRequest('status', 'status cannot be set when booking; it starts as scheduled');
    if (!SIM_APPOINTMENT_STATUSES.includes(body.status as SimAppointmentStatus)) {
      throw invalidRequest('status', `status must be one of ${SIM_APPOINTMENT_STATUSES.join(', ')}`);
    }
    write.status = body.status as SimAppointmentStatus;
  }
  return write;
}

function existingId(body: SimBody, name: string, rows: ReadonlyArray<{ id: number }>): number {
  const id = requiredPositiveInt(body, name);
  if (!rows.some((row) => row.id === id)) throw invalidRequest(name, `${name} ${id} does not exist`);
  return id;
}

/**
 * The start as stored: to the minute. A wall time that does not exist in the practice's zone (inside the spring
 * DST gap) is refused rather than silently moved, because nobody can turn up at 02:30 on that night.
 */
function parseStart(start: string, zone: string): string {
  if (!isWallTime(start))
    throw invalidRequest('start', 'start must be a practice-local wall time like 2026-11-24T14:00');
  if (start.length === 19 && !start.endsWith(':00')) {
    throw invalidRequest('start', 'start must be on a whole minute');
  }
  const minute = start.slice(0, 16);
  if (instantToWallTime(wallTimeToInstant(minute, zone), zone) !== minute) {
    throw invalidRequest('start', `start ${minute} does not exist in ${zone} (daylight-saving gap)`);
  }
  return minute;
}
