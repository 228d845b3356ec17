/**
 * Holds and bookings whose outcome is not known yet, as the facade shows them (issue 10 item 1; IHE ITI-116): each
 * is a `pending` Appointment whose id is its saga's, readable by that id and found by Appointment searches while it
 * runs. A new booking's appointment keeps that id once committed (commit-step.ts adopts it for the records
 * system's record), so the `Location` of a `202 booking-pending` answer reads the final appointment once there is
 * one, and a booking that ended without one reads `cancelled` with its reason.
 */
import type { HeldTime } from '../booking-types.js';
import { heldTimeOf } from './hold-saga.js';
import type { SagaContext } from './saga-context.js';
import { readSaga, runningSagas } from './saga-store.js';

/** The hold or new booking saga `id` as it stands now; undefined for any other id (or a cancel/reschedule). */
export async function bookingInFlight(
  ctx: SagaContext,
  tenantId: string,
  id: string,
): Promise<HeldTime | undefined> {
  const saga = await readSaga(ctx.store, tenantId, id);
  return saga && (saga.kind === 'book' || saga.kind === 'hold') ? heldTimeOf(saga) : undefined;
}

/** Every hold and new booking of the tenant still running. */
export async function bookingsInFlight(ctx: SagaContext, tenantId: string): Promise<HeldTime[]> {
  return (await runningSagas(ctx.store, tenantId, ['book', 'hold'])).map(heldTimeOf);
}
