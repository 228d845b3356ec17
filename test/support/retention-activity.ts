/**
 * The rows a practice's activity leaves behind that retention prunes besides versions and journal events (issue 15
 * item 4): finished or pending booking sagas, idempotency records, delivered webhook deliveries. The retention test
 * and the retention benchmark both generate them; only the amounts and payload sizes differ.
 */
import type { StoreTransaction } from '../../src/store/database.js';

/** A booking saga row of `state`, created and last changed at `at`. */
export async function insertSaga(
  trx: StoreTransaction,
  saga: {
    tenantId: string;
    id: string;
    state: string;
    marker: string;
    at: string;
    appointmentId?: string | null;
    request?: string;
  },
): Promise<void> {
  await trx
    .insertInto('booking_sagas')
    .values({
      tenant_id: saga.tenantId,
      id: saga.id,
      kind: 'book',
      state: saga.state,
      client_id: 'agent',
      request: saga.request ?? '{}',
      marker: saga.marker,
      practitioner_id: 'dr-a',
      start_at: saga.at,
      end_at: saga.at,
      appointment_id: saga.appointmentId ?? null,
      upstream_id: null,
      error_code: null,
      error_detail: null,
      created_at: saga.at,
      updated_at: saga.at,
      expires_at: saga.at,
      owner_instance: null,
    })
    .execute();
}

/** A completed idempotency record of the client `agent`, created at `at`. */
export async function insertIdempotencyRecord(
  trx: StoreTransaction,
  record: { tenantId: string; key: string; at: string; expiresAt: string; response?: string },
): Promise<void> {
  await trx
    .insertInto('idempotency_records')
    .values({
      tenant_id: record.tenantId,
      client_id: 'agent',
      idempotency_key: record.key,
      fingerprint: 'f',
      state: 'completed',
      status: 201,
      response: record.response ?? '{}',
      created_at: record.at,
      expires_at: record.expiresAt,
    })
    .execute();
}
