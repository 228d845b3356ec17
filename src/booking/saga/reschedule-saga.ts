/**
 * A reschedule as a saga (DESIGN.md section 4): the new time validated and held like a booking, then the
 * appointment moved in one upstream write (the records system modifies it in place), so the patient never has
 * zero or two appointments.
 */
import type { BookingOutcome } from '../booking-types.js';
import { INACTIVE } from './busy-time.js';
import { hold } from './hold-step.js';
import { liveRecheck } from './live-recheck-step.js';
import { runSaga } from './run-saga.js';
import type { BookingTenant, SagaContext } from './saga-context.js';
import { SagaFailure } from './saga-failure.js';
import { existingAppointment, requestFromAppointment, upstreamRequest, validate } from './validate-step.js';
import { verifyAndCommit } from './verify-step.js';
import { appointmentWrite, write } from './write-step.js';

/** Moves an appointment to `change.start` (and, optionally, another length). */
export function rescheduleSaga(
  ctx: SagaContext,
  tenant: BookingTenant,
  appointmentId: string,
  change: { start: Date; minutes?: number },
  options: { expectedVersion?: number; clientId?: string; sagaId?: string },
): Promise<BookingOutcome> {
  return runSaga(ctx, {
    tenant,
    sagaId: options.sagaId,
    start: async (sagaId, alternativesAround) => {
      const { appointment, upstreamId, versionId } = await existingAppointment(
        ctx,
        tenant,
        appointmentId,
        options.expectedVersion,
      );
      if (INACTIVE.has(appointment.status) || appointment.status === 'fulfilled') {
        throw new SagaFailure('invalid-state', `the appointment is ${appointment.status}`);
      }
      const request = requestFromAppointment(appointment, change.start, change.minutes);
      alternativesAround(request);
      const { scheduleId } = await validate(ctx, tenant, { ...request, ignoreAppointmentId: appointmentId });
      const originalStart = Date.parse(appointment.start ?? '');
      const originalEnd = Date.parse(appointment.end ?? '');
      const sagaRequest = {
        ...(await upstreamRequest(ctx, tenant.config.id, request)),
        scheduleId,
        existingUpstreamId: upstreamId,
        expectedVersion: options.expectedVersion ?? versionId,
        // Where it was, so a reschedule that loses its race at verify can be moved back there.
        original: {
          start: new Date(originalStart).toISOString(),
          minutes: Math.round((originalEnd - originalStart) / 60_000) || request.minutes,
          marker: tenant.connector.markerOf(appointment) ?? tenant.connector.correlationMarker(sagaId),
          comment: appointment.comment,
        },
      };
      const saga = await hold(ctx, tenant, {
        sagaId,
        kind: 'reschedule',
        clientId: options.clientId,
        request,
        sagaRequest,
        appointmentId,
        appointmentVersion: { seen: versionId, expected: options.expectedVersion },
      });
      return { saga, appointment, upstreamId, request, sagaRequest };
    },
    steps: async ({ saga, appointment, upstreamId, request, sagaRequest }) => {
      await liveRecheck(ctx, tenant, saga, upstreamId);
      const written = await write(ctx, tenant, saga, () =>
        tenant.connector.rescheduleAppointment(
          upstreamId,
          // The appointment keeps its comment, and the marker it was booked with when it has one.
          appointmentWrite(
            sagaRequest,
            request,
            tenant.connector.markerOf(appointment) ?? saga.marker,
            appointment.comment,
          ),
        ),
      );
      return verifyAndCommit(ctx, tenant, saga, written);
    },
  });
}
