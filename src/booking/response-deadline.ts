/**
 * The response deadline of a booking (DESIGN.md section 4, "Truthful answers"; config `booking.responseDeadlineMs`):
 * a saga still running when it passes is answered `booking-pending` and goes on in the background; its outcome
 * is journalled when it comes (`booking.confirmed`, or the saga's own failure event) and is what the same
 * Idempotency-Key replays.
 */
import type { BookingOutcome } from './booking-types.js';
import { pendingOutcome } from './saga/run-saga.js';

/**
 * `running`'s outcome if it comes within `deadlineMs`, else `booking-pending` for `sagaId` — but only once the saga
 * is `recorded` (its row written, so what the answer points at can be read and asked about), or its outcome if that
 * comes first — with `late` called with the outcome once it comes (never with a rejection: a saga answers every
 * failure as an outcome).
 */
export async function withinDeadline(
  running: Promise<BookingOutcome>,
  deadlineMs: number,
  sagaId: string,
  recorded: Promise<void>,
  late: (outcome: BookingOutcome) => Promise<void>,
): Promise<BookingOutcome> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), deadlineMs);
  });
  try {
    const first = await Promise.race([running, deadline]);
    if (first !== undefined) return first;
  } finally {
    clearTimeout(timer);
  }
  // Not yet recorded (queued, validating): nothing was sent upstream, and the wait ends with the saga's row or its
  // answer, whichever comes first.
  const settled = await Promise.race([running, recorded.then(() => undefined)]);
  if (settled !== undefined) return settled;
  void running.then(late, () => undefined);
  return pendingOutcome(sagaId);
}
