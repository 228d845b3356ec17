/**
 * A `202 booking-pending` answer stored under an Idempotency-Key is bound to its booking until the booking ends
 * (DESIGN.md section 4, "Truthful answers"): once the final answer is known, it replaces the pending one, so every
 * later replay gives the final answer without asking the saga again.
 */
import type { Store } from './database.js';
import {
  answerColumns,
  idempotencyKeyColumns,
  type IdempotencyKeyRef,
  type StoredAnswer,
} from './idempotency-rows.js';

/** The key's record while it holds a `202 booking-pending` answer. */
const pendingAnswerOf = (scope: IdempotencyKeyRef) => ({
  ...idempotencyKeyColumns(scope),
  state: 'completed',
  status: 202,
});

/** Replaces a stored `202` answer by the final one; a record already settled (or gone) is left alone. */
export async function settlePendingIdempotencyKey(
  store: Store,
  scope: IdempotencyKeyRef,
  response: StoredAnswer,
): Promise<void> {
  await store.write((trx) =>
    trx
      .updateTable('idempotency_records')
      .set(answerColumns(response))
      .where((eb) => eb.and(pendingAnswerOf(scope)))
      .execute(),
  );
}

/**
 * Drops a stored `202` answer whose booking ended without a booking and is worth retrying (5xx, 429): like a first
 * answer of that kind, it is not kept, so the same key runs afresh. A record already settled is left alone.
 */
export async function dropPendingIdempotencyKey(store: Store, scope: IdempotencyKeyRef): Promise<void> {
  await store.write((trx) =>
    trx
      .deleteFrom('idempotency_records')
      .where((eb) => eb.and(pendingAnswerOf(scope)))
      .execute(),
  );
}
