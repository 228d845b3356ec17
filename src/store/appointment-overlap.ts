/**
 * Whether a stored appointment occupies a practitioner's time, read inside the transaction that holds the time
 * (DESIGN.md section 4, step 2): the hold refuses a time the store already shows as booked. Which statuses no longer
 * occupy time is the booking saga's (`src/booking/saga/busy-time.ts`).
 */
import type { StoreTransaction } from './database.js';

/** The practitioner's time a hold is about to claim. */
export interface AppointmentOverlapQuery {
  practitionerId: string;
  start: Date;
  end: Date;
  /** Appointments in these statuses do not count. */
  inactiveStatuses: readonly string[];
  /** A reschedule's own appointment, whose time does not count as taken. */
  ignoreAppointmentId: string | undefined;
}

/** True when a stored, not deleted Appointment of the practitioner overlaps `[start, end)`. */
export async function storedAppointmentOverlaps(
  trx: StoreTransaction,
  tenantId: string,
  query: AppointmentOverlapQuery,
): Promise<boolean> {
  let select = trx
    .selectFrom('resources')
    .select('id')
    .where('tenant_id', '=', tenantId)
    .where('resource_type', '=', 'Appointment')
    .where('ref_practitioner', '=', query.practitionerId)
    .where('deleted', '=', 0)
    .where('status', 'not in', [...query.inactiveStatuses])
    .where('period_start', '<', query.end.toISOString())
    .where('period_end', '>', query.start.toISOString());
  if (query.ignoreAppointmentId) select = select.where('id', '!=', query.ignoreAppointmentId);
  return (await select.limit(1).execute()).length > 0;
}
