/**
 * Time held by bookings in flight (the saga's claims, DESIGN.md section 4 step 2), as availability counts it busy:
 * a slot being booked right now is offered to no one else.
 */
import { CLAIM_GRANULARITY_MINUTES, claimedBucketRows } from '../store/availability-queries.js';
import type { Store } from '../store/database.js';

const BUCKET_MS = CLAIM_GRANULARITY_MINUTES * 60_000;

/** A practitioner's held range, ISO UTC. */
export interface HeldRange {
  practitionerId: string;
  start: string;
  end: string;
}

/**
 * Held time overlapping `[from, to)`, merged into ranges per practitioner; only these practitioners' when a
 * non-empty list is given.
 *
 * @see DESIGN.md section 4
 */
export async function heldRanges(
  store: Store,
  tenantId: string,
  from: Date,
  to: Date,
  practitionerIds?: readonly string[],
): Promise<HeldRange[]> {
  const rows = await claimedBucketRows(
    store,
    tenantId,
    { from: new Date(from.getTime() - BUCKET_MS).toISOString(), to: to.toISOString() },
    practitionerIds,
  );
  const ranges: HeldRange[] = [];
  for (const row of rows) {
    const end = new Date(Date.parse(row.bucket_start) + BUCKET_MS).toISOString();
    const last = ranges.at(-1);
    if (last && last.practitionerId === row.practitioner_id && last.end === row.bucket_start) last.end = end;
    else ranges.push({ practitionerId: row.practitioner_id, start: row.bucket_start, end });
  }
  return ranges;
}
