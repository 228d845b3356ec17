/**
 * Appointment claims (issue 10 item 3, DESIGN.md section 4): a cancel or reschedule saga claims the appointment it
 * changes, in the transaction that records the saga and before anything goes upstream. The primary key refuses a
 * second claim, so of concurrent changes of one appointment exactly one reaches the records system; the claim is
 * released with the saga's time claims (commit or release), so it lasts as long as the change is in flight.
 */
import type { StoreTransaction } from './database.js';

/**
 * Claims `appointmentId` for `sagaId` at `versionId`; throws the database's unique violation when another saga
 * holds it. Call it before reading the version to compare with: the claim serializes the readers.
 */
export async function claimAppointment(
  trx: StoreTransaction,
  tenantId: string,
  appointmentId: string,
  sagaId: string,
  versionId: number,
): Promise<void> {
  await trx
    .insertInto('booking_appointment_claims')
    .values({ tenant_id: tenantId, appointment_id: appointmentId, saga_id: sagaId, version_id: versionId })
    .execute();
}

/** The version the saga claimed its appointment at; undefined when it holds no appointment claim. */
export async function claimedAppointmentVersion(
  trx: StoreTransaction,
  tenantId: string,
  sagaId: string,
): Promise<{ appointmentId: string; versionId: number } | undefined> {
  const row = await trx
    .selectFrom('booking_appointment_claims')
    .select(['appointment_id', 'version_id'])
    .where('tenant_id', '=', tenantId)
    .where('saga_id', '=', sagaId)
    .executeTakeFirst();
  return row ? { appointmentId: row.appointment_id, versionId: row.version_id } : undefined;
}

export async function releaseAppointmentClaim(
  trx: StoreTransaction,
  tenantId: string,
  sagaId: string,
): Promise<void> {
  await trx
    .deleteFrom('booking_appointment_claims')
    .where('tenant_id', '=', tenantId)
    .where('saga_id', '=', sagaId)
    .execute();
}

/** The stored version of an appointment inside a write transaction (undefined: unknown or deleted). */
export async function appointmentVersionInTransaction(
  trx: StoreTransaction,
  tenantId: string,
  appointmentId: string,
): Promise<number | undefined> {
  const row = await trx
    .selectFrom('resources')
    .select('version_id')
    .where('tenant_id', '=', tenantId)
    .where('resource_type', '=', 'Appointment')
    .where('id', '=', appointmentId)
    .where('deleted', '=', 0)
    .executeTakeFirst();
  return row?.version_id;
}
