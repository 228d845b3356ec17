/**
 * Compensation (DESIGN.md section 4): a definite failure after the write undoes what was written upstream before
 * the hold is released, so a failure is answered only when nothing stays written.
 */
import { releaseSaga } from './release-step.js';
import type { BookingTenant, SagaContext } from './saga-context.js';
import { updateSaga, type Saga } from './saga-store.js';

/** Undoes an upstream booking (cancels it) and releases the hold. */
export async function compensate(
  ctx: SagaContext,
  tenant: BookingTenant,
  saga: Saga,
  why: string,
): Promise<void> {
  await updateSaga(ctx.store, saga.tenantId, saga.id, { state: 'compensating', errorDetail: why }, ctx.now());
  if (saga.kind === 'book' && saga.upstreamId) {
    await tenant.connector.cancelAppointment(saga.upstreamId, `Switchboard rollback: ${why}`);
  }
  await releaseSaga(ctx, saga.tenantId, saga.id, why, 'booking.rolled-back');
}
