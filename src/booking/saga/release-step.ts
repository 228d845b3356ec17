/**
 * The end of a saga without a booking (DESIGN.md section 4): its claims released, its row marked `released` and
 * the reason journalled, in one transaction.
 */
import { appendJournalInTransaction } from '../../events/change-writer.js';
import type { BookingFailureCode } from '../booking-types.js';
import { releaseClaims } from '../time-claims.js';
import type { SagaContext } from './saga-context.js';
import { failureEvent, type ReleaseEvent } from './saga-failure.js';
import { readSagaInTransaction, updateSagaInTransaction, type Saga } from './saga-store.js';

/**
 * Releases a saga's claims and marks it released, unless it already finished. With `guard.updatedAt`, only if
 * the saga was not touched since (recovery must not release a hold confirmed meanwhile). True when released.
 */
export async function releaseSaga(
  ctx: SagaContext,
  tenantId: string,
  sagaId: string,
  why: string,
  eventType: ReleaseEvent,
  code?: BookingFailureCode,
  guard: Partial<Pick<Saga, 'kind' | 'state' | 'updatedAt'>> = {},
): Promise<boolean> {
  const now = ctx.now();
  return ctx.store.write(async (trx) => {
    const saga = await readSagaInTransaction(trx, tenantId, sagaId);
    if (!saga || ['released', 'committed', 'needs-attention'].includes(saga.state)) return false;
    if (
      (guard.updatedAt !== undefined && saga.updated_at !== guard.updatedAt) ||
      (guard.kind !== undefined && saga.kind !== guard.kind) ||
      (guard.state !== undefined && saga.state !== guard.state)
    )
      return false;
    await updateSagaInTransaction(
      trx,
      tenantId,
      sagaId,
      { state: 'released', errorCode: code, errorDetail: why },
      now,
    );
    await releaseClaims(trx, tenantId, sagaId);
    await appendJournalInTransaction(trx, tenantId, [failureEvent(eventType, sagaId, saga, code)], now);
    return true;
  });
}

/** A guard for {@link releaseSaga} that holds only while the saga is as it was read (kind, state, last step). */
export function unchangedSince(saga: Saga): Pick<Saga, 'kind' | 'state' | 'updatedAt'> {
  return { kind: saga.kind, state: saga.state, updatedAt: saga.updatedAt };
}
