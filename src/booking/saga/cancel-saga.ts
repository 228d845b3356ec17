/** A cancellation as a saga (DESIGN.md section 4): recorded, written upstream, committed; nothing to hold. */
import type { BookingOutcome } from '../booking-types.js';
import { INACTIVE } from './busy-time.js';
import { commit } from './commit-step.js';
import { recordSaga } from './hold-step.js';
import { runSaga } from './run-saga.js';
import type { BookingTenant, SagaContext } from './saga-context.js';
import { SagaFailure } from './saga-failure.js';
import { readOwnSaga } from './saga-store.js';
import { existingAppointment } from './validate-step.js';
import { write } from './write-step.js';

/**
 * Cancels an appointment in the records system and records the cancellation.
 * `options.expectedVersion` is the version the caller saw (If-Match); a newer one answers `version-conflict`.
 */
export function cancelSaga(
  ctx: SagaContext,
  tenant: BookingTenant,
  appointmentId: string,
  reason: string,
  options: { expectedVersion?: number; clientId?: string; sagaId?: string },
): Promise<BookingOutcome> {
  return runSaga(ctx, {
    tenant,
    sagaId: options.sagaId,
    start: async (sagaId) => {
      const existing = await existingAppointment(ctx, tenant, appointmentId, options.expectedVersion);
      const { appointment, upstreamId, versionId } = existing;
      if (INACTIVE.has(appointment.status)) {
        throw new SagaFailure('invalid-state', `the appointment is already ${appointment.status}`);
      }
      const saga = await recordSaga(
        ctx,
        tenant,
        sagaId,
        'cancel',
        appointment,
        upstreamId,
        options.clientId,
        { cancelReason: reason, expectedVersion: options.expectedVersion ?? versionId },
        { seen: versionId, expected: options.expectedVersion },
      );
      return { saga, upstreamId };
    },
    steps: async ({ saga, upstreamId }) => {
      const record = await write(ctx, tenant, saga, () =>
        tenant.connector.cancelAppointment(upstreamId, reason),
      );
      return commit(
        ctx,
        await readOwnSaga(ctx.store, saga.tenantId, saga.id),
        record,
        'appointment.cancelled',
      );
    },
  });
}
