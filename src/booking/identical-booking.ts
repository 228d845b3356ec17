/**
 * Agent retries without a key (issue 10 item 7): agent platforms give a tool call a few seconds, then send the
 * same arguments again with no idempotency key. A booking identical to one the same client made within the
 * tenant's `identicalRetryWindowMinutes` (same patient, practitioner, start and type) is that booking, not a
 * competitor for its slot: it is answered with the existing appointment instead of `409 slot-taken`. While the
 * first attempt is still in flight, the retry waits for it (bounded) and answers with its outcome, or with its
 * `booking-pending` when it is still running (a `202` whose Location is the first attempt's Appointment).
 *
 * Only the same client's bookings count: another client's identical request is refused as before, so no client
 * learns of an appointment it did not make. A request without a client (no authentication, tests and embedding
 * only) has no "same client" and is never matched.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { bookingsOfClientAt } from '../store/identical-bookings.js';
import { readResource } from '../store/resource-store.js';
import type { BookingFailure, BookingRequest, BookingSuccess } from './booking-types.js';
import { pendingOutcome } from './saga/run-saga.js';
import { INACTIVE } from './saga/busy-time.js';
import type { BookingTenant, SagaContext } from './saga/saga-context.js';
import type { SagaRequest } from './saga/saga-store.js';

/** Saga states of a booking still running (not committed, released or handed to staff). */
const RUNNING = new Set(['held', 'writing', 'unknown', 'written', 'compensating']);

/** How often a retry looks again at the attempt it waits for. */
const POLL_MS = 100;

/**
 * The appointment an identical earlier booking of this client made, as a success marked `duplicate`; while that
 * booking is still running after `waitMs`, its `booking-pending` (the retry is the same booking, whose outcome is
 * not known yet: a competing saga would only be told `slot-taken`, or worse, "nothing was booked" while the first
 * books); undefined when there is none or it failed: the caller books as usual then.
 */
export async function identicalBooking(
  ctx: SagaContext,
  tenant: BookingTenant,
  request: BookingRequest,
  clientId: string | undefined,
  waitMs: number,
): Promise<BookingSuccess | BookingFailure | undefined> {
  const windowMinutes = tenant.config.booking.identicalRetryWindowMinutes;
  if (windowMinutes === 0 || clientId === undefined) return undefined;
  // Real time, not ctx.now(): the wait is for work in this process, whatever the practice's clock says.
  const giveUpAt = performance.now() + waitMs;
  for (;;) {
    const earlier = (
      await bookingsOfClientAt(ctx.store, {
        tenantId: tenant.config.id,
        clientId,
        practitionerId: request.practitionerId,
        start: request.start,
        since: new Date(ctx.now().getTime() - windowMinutes * 60_000),
      })
    ).filter((saga) => sameBooking(JSON.parse(saga.request) as SagaRequest, request));
    for (const saga of earlier) {
      if (saga.state !== 'committed' || saga.appointmentId === null) continue;
      const stored = await readResource(ctx.store, tenant.config.id, 'Appointment', saga.appointmentId);
      // Cancelled since: the retry is a new booking of a free time, not a repeat.
      if (!stored || stored.deleted || INACTIVE.has(stored.resource.status)) continue;
      return {
        ok: true,
        appointment: stored.resource,
        versionId: stored.versionId,
        bookingId: saga.id,
        created: false,
        duplicate: true,
      };
    }
    const inFlight = earlier.find((saga) => RUNNING.has(saga.state));
    if (!inFlight) return undefined;
    if (performance.now() >= giveUpAt) return pendingOutcome(inFlight.id);
    await sleep(POLL_MS);
  }
}

function sameBooking(earlier: SagaRequest, request: BookingRequest): boolean {
  return (
    earlier.patientId === request.patientId && earlier.appointmentTypeCode === request.appointmentTypeCode
  );
}
