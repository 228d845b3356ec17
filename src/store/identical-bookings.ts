/**
 * Bookings a client already made at a practitioner's time (issue 10 item 7): what an agent's keyless retry is
 * matched against. Sagas keep the client, practitioner and start in columns; patient and type are in the saga's
 * request, compared by the caller.
 */
import type { Store } from './database.js';

/** A booking saga at the time asked for, as {@link bookingsOfClientAt} reads it. */
export interface BookingAtTime {
  id: string;
  state: string;
  appointmentId: string | null;
  /** The saga's request as stored (JSON text). */
  request: string;
}

/**
 * Booking sagas (kind `book`, not released) of `clientId` at `practitionerId` and exactly `start`, begun at or
 * after `since`; the newest first.
 */
export async function bookingsOfClientAt(
  store: Store,
  query: { tenantId: string; clientId: string; practitionerId: string; start: Date; since: Date },
): Promise<BookingAtTime[]> {
  const rows = await store.db
    .selectFrom('booking_sagas')
    .select(['id', 'state', 'appointment_id', 'request'])
    .where('tenant_id', '=', query.tenantId)
    .where('kind', '=', 'book')
    .where('state', '!=', 'released')
    .where('practitioner_id', '=', query.practitionerId)
    .where('start_at', '=', query.start.toISOString())
    .where('client_id', '=', query.clientId)
    .where('created_at', '>=', query.since.toISOString())
    .orderBy('created_at', 'desc')
    .limit(20)
    .execute();
  return rows.map((row) => ({
    id: row.id,
    state: row.state,
    appointmentId: row.appointment_id,
    request: row.request,
  }));
}
