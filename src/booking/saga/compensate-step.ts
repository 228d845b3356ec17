/**
 * Compensation (DESIGN.md section 4): a definite failure after the write undoes what was written upstream before
 * the hold is released, so a failure is answered only when nothing stays written. A booking is cancelled; a
 * reschedule is moved back to where it was, and verified there. An attempt that fails leaves the saga
 * `compensating` for the recovery worker, which tries again with backoff; what cannot be undone (the original time
 * was taken meanwhile, the records system keeps refusing) is handed to the practice's staff as a Task.
 */
import type { Appointment } from '@medplum/fhirtypes';
import type { UpstreamRecord } from '../../connectors/connector.js';
import { toFhirResources } from '../../connectors/resolve-fhir-ids.js';
import { needsAttention } from './attention-step.js';
import { LOOKBEHIND_MS, occupiesTime, overlaps } from './busy-time.js';
import { releaseSaga } from './release-step.js';
import type { BookingTenant, SagaContext } from './saga-context.js';
import { updateSaga, type Saga } from './saga-store.js';
import { appointmentWrite } from './write-step.js';

/** Attempts at undoing a write before it is handed to staff (recovery backs off between them). */
export const MAX_COMPENSATION_ATTEMPTS = 5;

/**
 * Undoes the saga's upstream write and releases it; a failed attempt throws with the saga left `compensating`, or,
 * once attempts are exhausted or the undo is impossible, ends the saga as `needs-attention` with a Task.
 */
export async function compensate(
  ctx: SagaContext,
  tenant: BookingTenant,
  saga: Saga,
  why: string,
): Promise<void> {
  const attempts = (saga.request.compensationAttempts ?? 0) + 1;
  const current: Saga = {
    ...saga,
    state: 'compensating',
    request: { ...saga.request, compensationAttempts: attempts },
  };
  await updateSaga(
    ctx.store,
    saga.tenantId,
    saga.id,
    {
      state: 'compensating',
      errorDetail: why,
      request: current.request,
      ...(saga.upstreamId ? { upstreamId: saga.upstreamId } : {}),
    },
    ctx.now(),
  );
  await ctx.checkpoint('compensating');
  try {
    if (saga.kind === 'book' && saga.upstreamId) await cancelBooking(ctx, tenant, current, why);
    if (saga.kind === 'reschedule') {
      const blocked = await moveBack(ctx, tenant, current);
      if (blocked) {
        await needsAttention(ctx, current, blocked);
        return;
      }
    }
  } catch (err) {
    if (attempts < MAX_COMPENSATION_ATTEMPTS) throw err;
    const detail = err instanceof Error ? err.message : String(err);
    await needsAttention(ctx, current, {
      reason: `the records system refused to undo the change ${attempts} times (${detail})`,
      action:
        saga.kind === 'book'
          ? 'Cancel this appointment in the practice system and call the patient: Switchboard could not undo it and told the caller the practice would be in touch.'
          : 'Move this appointment back to its original time in the practice system, or call the patient.',
      appointmentId: await fhirAppointmentId(ctx, tenant, current),
    });
    return;
  }
  await releaseSaga(ctx, saga.tenantId, saga.id, why, 'booking.rolled-back', 'slot-taken');
}

/** Cancels the booking's appointment unless it is already gone (a retried compensation). */
async function cancelBooking(
  ctx: SagaContext,
  tenant: BookingTenant,
  saga: Saga,
  why: string,
): Promise<void> {
  const upstreamId = saga.upstreamId as string;
  const existing = await tenant.connector.readAppointment(upstreamId);
  const [appointment] = existing ? await toFhirResources(ctx.store, saga.tenantId, [existing]) : [];
  if (!occupiesTime(appointment)) return;
  await tenant.connector.cancelAppointment(upstreamId, `Switchboard rollback: ${why}`);
}

/**
 * Moves a rescheduled appointment back to its original time and verifies it there. Returns why it cannot be done
 * automatically (the original time was taken meanwhile), or undefined once it is back (or never left).
 */
async function moveBack(
  ctx: SagaContext,
  tenant: BookingTenant,
  saga: Saga,
): Promise<{ reason: string; action: string; appointmentId?: string } | undefined> {
  const original = saga.request.original;
  const upstreamId = saga.request.existingUpstreamId;
  if (!original || !upstreamId) return undefined;
  const start = new Date(original.start);
  const range = { start, end: new Date(start.getTime() + original.minutes * 60_000) };
  const taken = async (): Promise<boolean> => {
    const around = await tenant.connector.appointmentsInWindow({
      from: new Date(range.start.getTime() - LOOKBEHIND_MS),
      to: range.end,
      practitionerUpstreamId: saga.request.practitionerUpstreamId,
    });
    const resources = await toFhirResources(ctx.store, saga.tenantId, around);
    return around.some(
      (record, i) =>
        record.upstreamId !== upstreamId &&
        occupiesTime(resources[i]) &&
        overlaps(resources[i]?.start, resources[i]?.end, range),
    );
  };
  const blocked = () => ({
    reason: `the reschedule lost its race for the new time and the original time (${original.start}) was taken meanwhile`,
    action:
      'This appointment overlaps another booking: move it to a free time in the practice system and tell the patient.',
    appointmentId: saga.appointmentId ?? undefined,
  });
  const current = await tenant.connector.readAppointment(upstreamId);
  const [appointment] = current ? await toFhirResources(ctx.store, saga.tenantId, [current]) : [];
  if (!occupiesTime(appointment)) return undefined;
  const isBack = appointment?.start !== undefined && Date.parse(appointment.start) === start.getTime();
  if (!isBack) {
    if (await taken()) return blocked();
    await tenant.connector.rescheduleAppointment(
      upstreamId,
      appointmentWrite(
        saga.request,
        {
          patientId: saga.request.patientId,
          practitionerId: saga.practitionerId,
          locationId: saga.request.locationId,
          appointmentTypeCode: saga.request.appointmentTypeCode,
          start,
          minutes: original.minutes,
        },
        original.marker,
        original.comment,
      ),
    );
  }
  // Verified where it is back: someone may have booked the original time while it was away.
  if (await taken()) return blocked();
  return undefined;
}

/** The FHIR id of the saga's appointment: the stored one, else the one its upstream record maps to. */
async function fhirAppointmentId(
  ctx: SagaContext,
  tenant: BookingTenant,
  saga: Saga,
): Promise<string | undefined> {
  if (saga.appointmentId) return saga.appointmentId;
  if (!saga.upstreamId) return undefined;
  const record: UpstreamRecord<Appointment> | null = await tenant.connector
    .readAppointment(saga.upstreamId)
    .catch(() => null);
  if (!record) return undefined;
  const [appointment] = await toFhirResources(ctx.store, saga.tenantId, [record]).catch(() => []);
  return appointment?.id;
}
