/**
 * A read-only look at booking sagas by correlation marker, for the sync engine (DESIGN.md section 5; issue 10
 * item 6): an upstream appointment carrying the marker of a saga that has not committed is a booking still in
 * flight or being rolled back, and must not reach subscribers as booked.
 */
import type { Store } from './database.js';
import { selectInChunks } from './batching.js';

/** The saga state in which a booking is in the store and published. */
const COMMITTED = 'committed';
/** The saga state in which a booking ended without one: anything it wrote upstream was undone. */
const RELEASED = 'released';

/**
 * Which of `markers` belong to a saga of the tenant that has not committed: held, writing, unknown, written,
 * compensating (or any state a later saga version adds), or released at or after `releasedSince` — a pass that
 * read the records system before then may have seen the booking before it was undone. A saga released earlier is
 * not returned: what the records system shows of it now is the truth (cancelled, or — were it ever abandoned —
 * active, which the facade must then show too). Markers of no saga are not returned.
 */
export async function uncommittedSagaMarkers(
  store: Store,
  tenantId: string,
  markers: readonly string[],
  releasedSince: Date,
): Promise<Set<string>> {
  const rows = await selectInChunks(markers, (part) =>
    store.db
      .selectFrom('booking_sagas')
      .select(['marker', 'state', 'updated_at'])
      .where('tenant_id', '=', tenantId)
      .where('marker', 'in', part)
      .execute(),
  );
  // A marker is one saga's; were two rows to share one, the committed one has published the appointment.
  const committed = new Set(rows.filter((r) => r.state === COMMITTED).map((r) => r.marker));
  const found = new Set<string>();
  for (const row of rows) {
    if (committed.has(row.marker)) continue;
    if (row.state === RELEASED && row.updated_at < releasedSince.toISOString()) continue;
    found.add(row.marker);
  }
  return found;
}

/**
 * The ids of the new-booking sagas (kind `book`: a booking, or a confirmed hold) that wrote with each of `markers`:
 * the FHIR id their appointment takes (issue 10 item 1: the pending Appointment a client was pointed at becomes
 * the booked one). Markers of no such saga are absent.
 */
export async function bookingIdsByMarker(
  store: Store,
  tenantId: string,
  markers: readonly string[],
): Promise<Map<string, string>> {
  const rows = await selectInChunks(markers, (part) =>
    store.db
      .selectFrom('booking_sagas')
      .select(['id', 'marker'])
      .where('tenant_id', '=', tenantId)
      .where('kind', '=', 'book')
      .where('marker', 'in', part)
      .execute(),
  );
  return new Map(rows.map((row) => [row.marker, row.id]));
}
