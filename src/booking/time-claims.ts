/**
 * Local holds on a practitioner's time (DESIGN.md section 4, step 2). A hold claims every 5-minute bucket its
 * range touches; the claims table's primary key refuses a second claim on any bucket, so of two concurrent
 * overlapping holds exactly one wins — on SQLite and PostgreSQL alike, without dialect-specific constraints.
 */
import { CLAIM_GRANULARITY_MINUTES } from '../store/availability-queries.js';
import { releaseAppointmentClaim } from '../store/appointment-claims.js';
import type { StoreTransaction } from '../store/database.js';
import { deleteTimeClaims, insertTimeClaims } from '../store/time-claim-rows.js';

const BUCKET_MS = CLAIM_GRANULARITY_MINUTES * 60_000;

/** True when both ends of the range sit on the claim grid (every bookable start and duration does). */
export function onClaimGrid(start: Date, end: Date): boolean {
  return start.getTime() % BUCKET_MS === 0 && end.getTime() % BUCKET_MS === 0 && end > start;
}

/** The buckets `[start, end)` covers, as ISO UTC instants. */
export function claimBuckets(start: Date, end: Date): string[] {
  const buckets: string[] = [];
  for (let t = Math.floor(start.getTime() / BUCKET_MS) * BUCKET_MS; t < end.getTime(); t += BUCKET_MS) {
    buckets.push(new Date(t).toISOString());
  }
  return buckets;
}

/** Claims the range for `sagaId`; throws the database's unique violation when any bucket is taken. */
export async function claimTime(
  trx: StoreTransaction,
  tenantId: string,
  practitionerId: string,
  start: Date,
  end: Date,
  sagaId: string,
): Promise<void> {
  await insertTimeClaims(trx, tenantId, practitionerId, claimBuckets(start, end), sagaId);
}

/** Releases every claim of the saga: its time and, for a cancel or reschedule, its appointment. */
export async function releaseClaims(trx: StoreTransaction, tenantId: string, sagaId: string): Promise<void> {
  await releaseAppointmentClaim(trx, tenantId, sagaId);
  await deleteTimeClaims(trx, tenantId, sagaId);
}
