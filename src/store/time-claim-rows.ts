/**
 * The rows of `booking_claims` (DESIGN.md section 4, step 2): one per 5-minute bucket of a practitioner's time a
 * saga holds. The table's primary key refuses a second claim on a bucket, so of two concurrent overlapping holds
 * exactly one inserts its rows. Which buckets a hold claims, and when claims are released, is
 * `src/booking/time-claims.ts`'s.
 */
import type { StoreTransaction } from './database.js';

/**
 * Claims each of `bucketStarts` (ISO UTC instants) of the practitioner's time for `sagaId`; throws the database's
 * unique violation when any bucket is taken.
 */
export async function insertTimeClaims(
  trx: StoreTransaction,
  tenantId: string,
  practitionerId: string,
  bucketStarts: readonly string[],
  sagaId: string,
): Promise<void> {
  const rows = bucketStarts.map((bucket_start) => ({
    tenant_id: tenantId,
    practitioner_id: practitionerId,
    bucket_start,
    saga_id: sagaId,
  }));
  await trx.insertInto('booking_claims').values(rows).execute();
}

/** Deletes every time claim of the saga. */
export async function deleteTimeClaims(
  trx: StoreTransaction,
  tenantId: string,
  sagaId: string,
): Promise<void> {
  await trx
    .deleteFrom('booking_claims')
    .where('tenant_id', '=', tenantId)
    .where('saga_id', '=', sagaId)
    .execute();
}
