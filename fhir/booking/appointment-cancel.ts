/**
 * Cancelling through the saga, shared by `PATCH`, `PUT` and `$book` with `status=cancelled`: a booked appointment
 * is cancelled in the records system (DESIGN.md section 4); a hold (its id is the hold's) is released.
 */
import type { Appointment } from '@medplum/fhirtypes';
import type { FhirRequestContext } from '../access.js';
import type { BookingHandlerDeps } from './booking-handler-deps.js';
import { bookingFailureError, writtenHeaders, type FailureOptions } from './booking-outcome.js';
import { heldAppointment } from './held-appointment.js';
import { resourceUrl } from '../search/bundle-builder.js';

/** The reason recorded upstream when the client gives none. */
export const DEFAULT_CANCEL_REASON = 'Cancelled through Switchboard';

export interface ChangeResult {
  appointment: Appointment;
  /** Headers of the written version (absent for a released hold, which has no stored version). */
  headers: Record<string, string>;
}

/** How a change is asked for: the version the caller saw, how a failure is told, the saga id a key is bound to. */
export interface ChangeOptions {
  expectedVersion?: number;
  failure?: FailureOptions;
  sagaId?: string;
}

export async function cancelAppointment(
  ctx: FhirRequestContext,
  deps: BookingHandlerDeps,
  id: string,
  reason: string | undefined,
  options: ChangeOptions,
): Promise<ChangeResult> {
  const booking = deps.booking();
  const hold = await booking.readHold(ctx.tenant.id, id);
  if (hold && hold.state !== 'confirmed') {
    const released = await booking.releaseHold(ctx.tenant.id, id);
    if (!released.ok) throw bookingFailureError(released, options.failure);
    return { appointment: await heldAppointment(ctx, released.hold), headers: {} };
  }
  const target = hold?.appointmentId ?? id;
  const outcome = await booking.cancel(ctx.tenant.id, target, reason ?? DEFAULT_CANCEL_REASON, {
    expectedVersion: options.expectedVersion,
    clientId: ctx.client?.id,
    sagaId: options.sagaId,
  });
  if (!outcome.ok) throw bookingFailureError(outcome, changeFailure(ctx, deps, target, options.failure));
  return {
    appointment: outcome.appointment,
    headers: writtenHeaders(deps.interaction.baseUrl(ctx), outcome.appointment, outcome.versionId),
  };
}

/** How a change of appointment `id` that did not happen (or is pending: `Location` is the appointment) is told. */
function changeFailure(
  ctx: FhirRequestContext,
  deps: BookingHandlerDeps,
  id: string,
  failure: FailureOptions | undefined,
): FailureOptions {
  const base = deps.interaction.baseUrl(ctx);
  return { ...failure, base, location: resourceUrl(base, 'Appointment', id) };
}

/** Moves an appointment in one upstream write: never zero or two appointments. */
export async function rescheduleAppointment(
  ctx: FhirRequestContext,
  deps: BookingHandlerDeps,
  id: string,
  change: { start: Date; minutes?: number },
  options: ChangeOptions,
): Promise<ChangeResult> {
  const outcome = await deps.booking().reschedule(ctx.tenant.id, id, change, {
    expectedVersion: options.expectedVersion,
    clientId: ctx.client?.id,
    sagaId: options.sagaId,
  });
  if (!outcome.ok) throw bookingFailureError(outcome, changeFailure(ctx, deps, id, options.failure));
  return {
    appointment: outcome.appointment,
    headers: writtenHeaders(deps.interaction.baseUrl(ctx), outcome.appointment, outcome.versionId),
  };
}
