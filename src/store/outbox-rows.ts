/**
 * The webhook outbox's rows as the store writes them (DESIGN.md section 3): event numbers per subscription and
 * new rows. Which events go to which subscription is decided in `src/webhooks/delivery/outbox-matching.ts`; the
 * write path that calls it is `src/events/change-writer.ts`.
 */
import { chunk, rowsPerInsert } from './batching.js';
import type { StoreTransaction } from './database.js';
import type { OutboxTable } from './schema.js';

/**
 * Takes the next `count` event numbers of a subscription (its `events_since_start` counter, bumped in one
 * statement, so concurrent writers cannot share a number) and returns the first.
 */
export async function allocateEventNumbers(
  trx: StoreTransaction,
  tenantId: string,
  subscriptionId: string,
  count: number,
): Promise<number> {
  const counter = await trx
    .updateTable('subscriptions')
    .set((eb) => ({ events_since_start: eb('events_since_start', '+', count) }))
    .where('tenant_id', '=', tenantId)
    .where('id', '=', subscriptionId)
    .returning('events_since_start')
    .executeTakeFirstOrThrow();
  return counter.events_since_start - count + 1;
}

/** Inserts outbox rows, in batches the dialects accept. */
export async function insertOutboxRows(trx: StoreTransaction, rows: readonly OutboxTable[]): Promise<void> {
  for (const part of chunk(rows, rowsPerInsert(16))) await trx.insertInto('outbox').values(part).execute();
}
