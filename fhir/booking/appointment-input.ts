/**
 * An Appointment in a request (POST Appointment, `$hold`, `$book`) read into what the booking saga needs
 * (DESIGN.md section 4, step 1 "validate"). Structure first, each problem a 400 whose `expression` names the
 * element (`Appointment.participant`, `Appointment.start`, …); then references, each unknown one a 422 `not-found`
 * (the request is well-formed but names something the practice does not have).
 *
 * What it accepts:
 * - time: `slot` = `Slot/{computed slot id}` (schedule, start and length in one id), or `start` with `end` or
 *   `minutesDuration`, or `start` alone (the type's length). Date-times need a time and a zone;
 * - participants: one Patient (required unless the caller says otherwise), one Practitioner (required), at most one
 *   Location (else the slot's Schedule's, or the practitioner's only — or best fitting — Schedule's). References are
 *   relative (`Patient/123`) or absolute under this server's base;
 * - type: `appointmentType` or `serviceType` coding; one the Schedule offers wins, else the first coding.
 */
import { validateWrite } from '../write-validation.js';
import type { Appointment, Coding } from '@medplum/fhirtypes';
import { isSlotFree } from '../../src/availability/availability-service.js';
import { parseSlotId } from '../../src/availability/slot-id.js';
import { readResource } from '../../src/store/resource-store.js';
import type { FhirRequestContext } from '../access.js';
import { FhirError } from '../operation-outcome.js';
import { loadSchedule, schedulesOf, typesOf, type LoadedSchedule } from '../../src/availability/schedules.js';

/** A booking request read from an Appointment. */
export interface AppointmentInput {
  patientId?: string;
  practitionerId: string;
  locationId: string;
  appointmentTypeCode: string;
  start: Date;
  minutes: number;
  comment?: string;
  /** The Schedule the time is on, when known. */
  scheduleId?: string;
}

export interface AppointmentInputOptions {
  /** FHIRPath of the Appointment in the request; default `Appointment`. */
  path?: string;
  /** `Appointment.status` values accepted (absent is always accepted). */
  statuses: readonly string[];
  /** `forbid`: a new appointment carries no id (400); `ignore`: any id is the caller's business. */
  id: 'forbid' | 'ignore';
  /** Whether a Patient participant is required. */
  patient: 'required' | 'optional';
  /** `{public base}/fhir/{tenant}`: absolute references must start with it. */
  base: string;
  now: Date;
}

const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;

/** A literal reference `Type/id` (relative, or absolute under `base`, `_history` ignored), else undefined. */
export function parseReference(
  reference: string | undefined,
  base: string,
): { type: string; id: string } | undefined {
  if (typeof reference !== 'string') return undefined;
  let path = reference;
  if (/^https?:\/\//.test(path)) {
    if (!path.startsWith(`${base}/`)) return undefined;
    path = path.slice(base.length + 1);
  }
  const match = /^([A-Z][A-Za-z]+)\/([^/]+)(?:\/_history\/[^/]+)?$/.exec(path);
  if (!match || !FHIR_ID.test(match[2] ?? '')) return undefined;
  return { type: match[1] as string, id: match[2] as string };
}

/** A FHIR dateTime with a time and a zone, as an instant; undefined for anything else. */
export function parseDateTime(value: unknown): Date | undefined {
  if (typeof value !== 'string' || !DATE_TIME.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : new Date(ms);
}

export async function readAppointmentInput(
  ctx: FhirRequestContext,
  body: unknown,
  options: AppointmentInputOptions,
): Promise<AppointmentInput> {
  const path = options.path ?? 'Appointment';
  const bad = (element: string, text: string, code: 'invalid' | 'required' | 'value' = 'invalid') =>
    FhirError.of(400, code, text, { expression: element === '' ? path : `${path}.${element}` });

  if (
    typeof body !== 'object' ||
    body === null ||
    (body as { resourceType?: unknown }).resourceType !== 'Appointment'
  ) {
    throw bad('', 'the body must be an Appointment resource');
  }
  // The R4 definitions first (issue 14 item 10): nothing invalid is normalised into a booking.
  validateWrite(body as Appointment, { path });
  const appointment = body as Appointment;
  if (options.id === 'forbid' && appointment.id !== undefined) {
    throw bad('id', 'a new appointment must not carry an id: the server assigns it');
  }
  if (appointment.status !== undefined && !options.statuses.includes(appointment.status)) {
    throw bad(
      'status',
      `status must be ${options.statuses.join(' or ')} (or left out), not ${String(appointment.status)}`,
      'value',
    );
  }

  // Participants.
  if (!Array.isArray(appointment.participant) || appointment.participant.length === 0) {
    throw bad('participant', 'participant must name the patient and the practitioner', 'required');
  }
  const found: Partial<Record<'Patient' | 'Practitioner' | 'Location', { id: string; index: number }>> = {};
  appointment.participant.forEach((participant, index) => {
    const element = `participant[${index}].actor`;
    const ref = parseReference(participant?.actor?.reference, options.base);
    if (!ref) {
      throw bad(element, 'each participant needs an actor reference like Patient/{id} to this server');
    }
    if (ref.type !== 'Patient' && ref.type !== 'Practitioner' && ref.type !== 'Location') {
      throw bad(
        element,
        `${ref.type} participants are not supported: name a Patient, a Practitioner and a Location`,
      );
    }
    if (found[ref.type]) throw bad(element, `only one ${ref.type} participant is supported`);
    found[ref.type] = { id: ref.id, index };
  });
  if (!found.Practitioner) throw bad('participant', 'a Practitioner participant is required', 'required');
  if (!found.Patient && options.patient === 'required') {
    throw bad('participant', 'a Patient participant is required', 'required');
  }

  // Type.
  const codings: Coding[] = [
    ...(appointment.appointmentType?.coding ?? []),
    ...(appointment.serviceType ?? []).flatMap((c) => c.coding ?? []),
  ].filter((c) => typeof c?.code === 'string' && c.code !== '');
  if (codings.length === 0) {
    throw bad(
      'appointmentType',
      'appointmentType (or serviceType) must carry the appointment type code',
      'required',
    );
  }

  // Time, as written.
  const start = appointment.start === undefined ? undefined : parseDateTime(appointment.start);
  if (appointment.start !== undefined && !start) {
    throw bad('start', 'start must be a date-time with a time zone, like 2026-11-24T10:30:00-05:00', 'value');
  }
  const end = appointment.end === undefined ? undefined : parseDateTime(appointment.end);
  if (appointment.end !== undefined && !end) {
    throw bad('end', 'end must be a date-time with a time zone, like 2026-11-24T10:45:00-05:00', 'value');
  }
  if (end && !start) throw bad('start', 'end needs a start', 'required');
  const duration = appointment.minutesDuration;
  if (duration !== undefined && (!Number.isInteger(duration) || duration < 1 || duration > 1440)) {
    throw bad('minutesDuration', 'minutesDuration must be a whole number of minutes (1-1440)', 'value');
  }
  if (start && end && !(end > start)) throw bad('end', 'end must be after start', 'value');
  const spanned = start && end ? (end.getTime() - start.getTime()) / 60_000 : undefined;
  if (spanned !== undefined && duration !== undefined && spanned !== duration) {
    throw bad('minutesDuration', 'minutesDuration does not match start and end', 'value');
  }
  const slots = appointment.slot ?? [];
  if (!Array.isArray(slots) || slots.length > 1) throw bad('slot', 'at most one slot is supported');
  if (slots.length === 0 && !start) {
    throw bad('start', 'a slot (Slot/{id}) or a start is required', 'required');
  }
  if (appointment.comment !== undefined && typeof appointment.comment !== 'string') {
    throw bad('comment', 'comment must be a string', 'value');
  }

  // References.
  const unknown = (element: string, text: string) =>
    FhirError.of(422, 'not-found', text, { expression: `${path}.${element}` });
  let schedule: LoadedSchedule | undefined;
  let slotTime: { start: Date; minutes: number } | undefined;
  if (slots.length === 1) {
    const ref = parseReference(slots[0]?.reference, options.base);
    const parsed = ref?.type === 'Slot' ? parseSlotId(ref.id) : undefined;
    if (!ref || ref.type !== 'Slot') throw bad('slot[0]', 'slot must reference a Slot: Slot/{id}');
    schedule = parsed ? await loadSchedule(ctx.store, ctx.tenant.id, parsed.scheduleId) : undefined;
    if (!parsed || !schedule) throw unknown('slot[0]', `Slot/${ref.id} is not a slot of this practice`);
    slotTime = { start: parsed.start, minutes: parsed.minutes };
    if (start && start.getTime() !== parsed.start.getTime())
      throw bad('start', 'start differs from the slot’s start');
    const asked = spanned ?? duration;
    if (asked !== undefined && asked !== parsed.minutes) throw bad('end', 'end differs from the slot’s end');
    if (schedule.practitionerId !== found.Practitioner.id) {
      throw FhirError.of(422, 'invalid', 'the slot belongs to another practitioner', {
        expression: `${path}.participant[${found.Practitioner.index}].actor`,
      });
    }
    if (found.Location && schedule.locationId !== found.Location.id) {
      throw FhirError.of(422, 'invalid', 'the slot is at another location', {
        expression: `${path}.participant[${found.Location.index}].actor`,
      });
    }
  }
  for (const type of ['Patient', 'Practitioner', 'Location'] as const) {
    const participant = found[type];
    if (!participant) continue;
    const stored = await readResource(ctx.store, ctx.tenant.id, type, participant.id);
    if (!stored || stored.deleted) {
      throw unknown(`participant[${participant.index}].actor`, `${type}/${participant.id} is not known`);
    }
  }

  const practitionerId = found.Practitioner.id;
  const timeStart = slotTime?.start ?? (start as Date);
  if (!schedule) {
    schedule = await scheduleFor(ctx, practitionerId, found.Location?.id, timeStart, codings, options.now);
  }
  const locationId = found.Location?.id ?? schedule?.locationId;
  if (!locationId) {
    throw unknown(`participant[${found.Practitioner.index}].actor`, 'that practitioner has no schedule here');
  }
  const offered = schedule ? typesOf(schedule.schedule) : [];
  const coding =
    codings.find((c) =>
      offered.some((t) => t.code === c.code && (c.system === undefined || c.system === t.system)),
    ) ?? (codings[0] as Coding);
  const typeCode = coding.code as string;
  const minutes =
    slotTime?.minutes ?? spanned ?? duration ?? offered.find((t) => t.code === typeCode)?.minutes;
  if (minutes === undefined) {
    throw bad(
      'end',
      'end or minutesDuration is required: the appointment type’s length is not known',
      'required',
    );
  }
  return {
    ...(found.Patient ? { patientId: found.Patient.id } : {}),
    practitionerId,
    locationId,
    appointmentTypeCode: typeCode,
    start: timeStart,
    minutes,
    ...(appointment.comment ? { comment: appointment.comment } : {}),
    ...(schedule ? { scheduleId: schedule.schedule.id } : {}),
  };
}

/**
 * The Schedule a time with this practitioner is on: at the given location, else the practitioner's only one, else
 * the first where that time is not outside working hours.
 */
async function scheduleFor(
  ctx: FhirRequestContext,
  practitionerId: string,
  locationId: string | undefined,
  start: Date,
  codings: readonly Coding[],
  now: Date,
): Promise<LoadedSchedule | undefined> {
  const schedules = await schedulesOf(ctx.store, ctx.tenant.id, practitionerId);
  if (locationId !== undefined) return schedules.find((s) => s.locationId === locationId);
  if (schedules.length <= 1) return schedules[0];
  for (const candidate of schedules) {
    const type = typesOf(candidate.schedule).find((t) => codings.some((c) => c.code === t.code));
    if (!type) continue;
    const check = await isSlotFree(ctx.store, ctx.tenant, {
      scheduleId: candidate.schedule.id,
      start,
      minutes: type.minutes,
      typeCode: type.code,
      now,
    });
    if (check.free || (check.reason !== 'outside-hours' && check.reason !== 'unknown-schedule'))
      return candidate;
  }
  return schedules[0];
}
