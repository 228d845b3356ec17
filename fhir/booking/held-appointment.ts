/**
 * The Appointment a hold (IHE ITI-116; standards.md 1.3) or a booking in flight (issue 10 item 1) stands for:
 * `pending` with `tentative` participants while held or running (or handed to staff), `cancelled` (participants
 * still `tentative`) once released, lapsed or failed — a failed booking with its failure code as `cancelationReason`. Neither lives in the
 * store until it is booked (nothing is written upstream for a hold until `$book`; a booking's outcome is not known
 * yet), so this resource is built from the saga on demand; its id is the saga's. A hold's expiry travels as the
 * {@link HOLD_EXPIRES_EXTENSION} and, on `$hold`, as the `Expires` header.
 */
import type { Appointment, AppointmentParticipant } from '@medplum/fhirtypes';
import { formatSlotId } from '../../src/availability/slot-id.js';
import { patientMessages, type HeldTime } from '../../src/booking/booking-types.js';
import { SWITCHBOARD_ISSUE_SYSTEM } from '../operation-outcome.js';
import { instantToOffsetDateTime } from '../../src/wall-time.js';
import type { FhirRequestContext } from '../access.js';
import { schedulesOf, typesOf } from '../../src/availability/schedules.js';
import { actorReferences, typeConcept } from './schedules.js';

/** `valueInstant`: when a hold lapses unless booked. */
export const HOLD_EXPIRES_EXTENSION = 'https://switchboard.health/fhir/StructureDefinition/hold-expires';

export async function heldAppointment(ctx: FhirRequestContext, hold: HeldTime): Promise<Appointment> {
  const { practitioner, location, zone } = await actorReferences(
    ctx.store,
    ctx.tenant.id,
    hold.practitionerId,
    hold.locationId,
  );
  const schedule = (await schedulesOf(ctx.store, ctx.tenant.id, hold.practitionerId)).find(
    (s) => s.locationId === hold.locationId,
  );
  const type = schedule
    ? typesOf(schedule.schedule).find((t) => t.code === hold.appointmentTypeCode)
    : undefined;
  const concept = type ? typeConcept(type) : { coding: [{ code: hold.appointmentTypeCode }] };
  const tz = zone ?? ctx.tenant.timezone ?? 'UTC';
  const participant = (actor: AppointmentParticipant['actor']): AppointmentParticipant => ({
    actor,
    required: 'required',
    status: 'tentative',
  });
  // A booking handed to staff (written upstream, not undone) is not cancelled: it stays pending until staff act
  // and a sync pass brings the records system's appointment under this id.
  const cancelled = hold.state === 'released' && hold.failureCode !== 'needs-attention';
  const start = instantToOffsetDateTime(hold.start, tz);
  const end = instantToOffsetDateTime(hold.end, tz);
  return {
    resourceType: 'Appointment',
    id: hold.holdId,
    ...(hold.kind === 'hold'
      ? { extension: [{ url: HOLD_EXPIRES_EXTENSION, valueInstant: hold.expiresAt.toISOString() }] }
      : {}),
    status: cancelled ? 'cancelled' : 'pending',
    ...(cancelled && hold.failureCode
      ? {
          cancelationReason: {
            coding: [{ system: SWITCHBOARD_ISSUE_SYSTEM, code: hold.failureCode }],
            text: patientMessages[hold.failureCode],
          },
        }
      : {}),
    serviceType: [concept],
    appointmentType: concept,
    start,
    end,
    minutesDuration: hold.minutes,
    ...(schedule
      ? { slot: [{ reference: `Slot/${formatSlotId(schedule.schedule.id, hold.start, hold.minutes)}` }] }
      : {}),
    ...(hold.comment ? { comment: hold.comment } : {}),
    participant: [
      ...(hold.patientId ? [participant({ reference: `Patient/${hold.patientId}` })] : []),
      participant(practitioner),
      participant(location),
    ],
    // IHE ihe-sched-appt: requestedPeriod 1..1.
    requestedPeriod: [{ start, end }],
  };
}
