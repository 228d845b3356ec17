/**
 * Persisted booking sagas (DESIGN.md section 4): every step is written before the next begins, so a crash at
 * any point leaves a row the recovery worker can finish or undo.
 */
import type { Store, StoreTransaction } from '../../store/database.js';
import {
  insertSagaRow,
  sagaReleaseRow,
  sagaRow,
  sagaRowsIn,
  staleSagaRows,
  updateSagaRow,
  type SagaReleaseRow,
} from '../../store/saga-rows.js';
import type { BookingSagasTable } from '../../store/schema.js';
import type { SagaKind, SagaState } from '../booking-types.js';

export interface Saga {
  tenantId: string;
  id: string;
  kind: SagaKind;
  state: SagaState;
  clientId: string | null;
  /** The validated request (kind-specific JSON). */
  request: SagaRequest;
  marker: string;
  practitionerId: string;
  start: Date;
  end: Date;
  appointmentId: string | null;
  upstreamId: string | null;
  errorCode: string | null;
  createdAt: string;
  updatedAt: string;
  expiresAt: string;
  /** The instance that ran it (null before scale-out, issue 11). */
  ownerInstance: string | null;
}

/** What the saga needs to finish its work after a restart, in upstream terms where it talks to upstream. */
export interface SagaRequest {
  patientId: string;
  locationId: string;
  appointmentTypeCode: string;
  minutes: number;
  comment?: string;
  patientUpstreamId: string;
  practitionerUpstreamId: string;
  locationUpstreamId: string;
  /**
   * The Schedule (practitioner × location) validation found the time on, for the live re-check; absent in sagas
   * recorded before it was carried, which look it up again.
   */
  scheduleId?: string;
  /** Reschedule and cancel: the appointment's upstream id and the version the caller saw. */
  existingUpstreamId?: string;
  /** Reschedule and cancel: the version of the appointment the change is based on (If-Match, else as read). */
  expectedVersion?: number;
  cancelReason?: string;
  /** Holds: the type is for new patients only, checked when the hold is confirmed. */
  newPatientOnly?: boolean;
  /** The saga began as a `$hold` (it keeps this when it is confirmed and becomes a booking). */
  fromHold?: boolean;
  /** Reschedule: where the appointment was, so a reschedule that loses its race is moved back there. */
  original?: { start: string; minutes: number; marker: string; comment?: string };
  /** Compensation attempts so far (recovery backs off between them and hands over to staff after a few). */
  compensationAttempts?: number;
}

export type NewSaga = Pick<
  Saga,
  | 'tenantId'
  | 'id'
  | 'kind'
  | 'clientId'
  | 'request'
  | 'marker'
  | 'practitionerId'
  | 'start'
  | 'end'
  | 'appointmentId'
>;

export async function insertSaga(
  trx: StoreTransaction,
  saga: NewSaga,
  now: Date,
  ttlMs: number,
  ownerInstance?: string,
): Promise<void> {
  await insertSagaRow(trx, {
    tenant_id: saga.tenantId,
    id: saga.id,
    kind: saga.kind,
    state: 'held',
    client_id: saga.clientId,
    request: JSON.stringify(saga.request),
    marker: saga.marker,
    practitioner_id: saga.practitionerId,
    start_at: saga.start.toISOString(),
    end_at: saga.end.toISOString(),
    appointment_id: saga.appointmentId,
    upstream_id: null,
    error_code: null,
    error_detail: null,
    created_at: now.toISOString(),
    updated_at: now.toISOString(),
    expires_at: new Date(now.getTime() + ttlMs).toISOString(),
    owner_instance: ownerInstance ?? null,
  });
}

export interface SagaPatch {
  state?: SagaState;
  kind?: SagaKind;
  request?: SagaRequest;
  upstreamId?: string;
  appointmentId?: string;
  errorCode?: string;
  errorDetail?: string;
}

export async function updateSagaInTransaction(
  trx: StoreTransaction,
  tenantId: string,
  id: string,
  patch: SagaPatch,
  now: Date,
): Promise<void> {
  const values: Partial<BookingSagasTable> = { updated_at: now.toISOString() };
  if (patch.state !== undefined) values.state = patch.state;
  if (patch.kind !== undefined) values.kind = patch.kind;
  if (patch.request !== undefined) values.request = JSON.stringify(patch.request);
  if (patch.upstreamId !== undefined) values.upstream_id = patch.upstreamId;
  if (patch.appointmentId !== undefined) values.appointment_id = patch.appointmentId;
  if (patch.errorCode !== undefined) values.error_code = patch.errorCode;
  if (patch.errorDetail !== undefined) values.error_detail = patch.errorDetail.slice(0, 500);
  await updateSagaRow(trx, tenantId, id, values);
}

export function updateSaga(
  store: Store,
  tenantId: string,
  id: string,
  patch: SagaPatch,
  now: Date,
): Promise<void> {
  return store.write((trx) => updateSagaInTransaction(trx, tenantId, id, patch, now));
}

/**
 * Turns a live hold into a booking in flight, with the patient (and comment) it is booked for. Only a saga that is
 * still a `held` hold changes; false when it was released or confirmed meanwhile. Claims and marker stay.
 */
export async function promoteHoldInTransaction(
  trx: StoreTransaction,
  tenantId: string,
  id: string,
  request: SagaRequest,
  now: Date,
): Promise<boolean> {
  const changed = await updateSagaRow(
    trx,
    tenantId,
    id,
    { kind: 'book', request: JSON.stringify(request), updated_at: now.toISOString() },
    { kind: 'hold', state: 'held' },
  );
  return changed === 1;
}

export async function readSaga(store: Store, tenantId: string, id: string): Promise<Saga | undefined> {
  const row = await sagaRow(store.db, tenantId, id);
  return row ? toSaga(row) : undefined;
}

/** A saga this process started and is still running: its row must be there. */
export async function readOwnSaga(store: Store, tenantId: string, id: string): Promise<Saga> {
  const saga = await readSaga(store, tenantId, id);
  if (!saga) throw new Error(`saga ${id} vanished`);
  return saga;
}

export type { SagaReleaseRow };

/** What releasing a saga reads of its row inside the releasing transaction (and journals). */
export function readSagaInTransaction(
  trx: StoreTransaction,
  tenantId: string,
  id: string,
): Promise<SagaReleaseRow | undefined> {
  return sagaReleaseRow(trx, tenantId, id);
}

/**
 * Sagas not finished whose last step is older than `staleBefore` (`unknownStaleBefore` for those whose write's
 * answer was lost: nothing is left to wait for there, only the records system to ask): left behind by a crash, a
 * stuck call or a lost answer. A hold (`kind = 'hold'`) waits for its client on purpose, so it counts only once it
 * has expired at `now`. Sagas owned by one of `liveOwners` are left to their owner.
 */
export async function staleSagas(
  store: Store,
  tenantId: string,
  options: { staleBefore: Date; unknownStaleBefore: Date; now: Date; liveOwners: readonly string[] },
): Promise<Saga[]> {
  const { staleBefore, unknownStaleBefore, now, liveOwners } = options;
  const rows = await staleSagaRows(store.db, tenantId, {
    states: ['held', 'writing', 'written', 'compensating'] satisfies SagaState[],
    updatedBefore: staleBefore,
    unknownState: 'unknown' satisfies SagaState,
    unknownUpdatedBefore: unknownStaleBefore,
    waitingKind: 'hold' satisfies SagaKind,
    now,
    liveOwners,
    limit: 100,
  });
  return rows.map(toSaga);
}

/** The tenant's sagas of these kinds still running (not committed, released or handed to staff), oldest first. */
export async function runningSagas(
  store: Store,
  tenantId: string,
  kinds: readonly SagaKind[],
  limit = 500,
): Promise<Saga[]> {
  const running: SagaState[] = ['held', 'writing', 'unknown', 'written', 'compensating'];
  const rows = await sagaRowsIn(store.db, tenantId, running, kinds, limit);
  return rows.map(toSaga);
}

function toSaga(row: BookingSagasTable): Saga {
  return {
    tenantId: row.tenant_id,
    id: row.id,
    kind: row.kind as SagaKind,
    state: row.state as SagaState,
    clientId: row.client_id,
    request: JSON.parse(row.request) as SagaRequest,
    marker: row.marker,
    practitionerId: row.practitioner_id,
    start: new Date(row.start_at),
    end: new Date(row.end_at),
    appointmentId: row.appointment_id,
    upstreamId: row.upstream_id,
    errorCode: row.error_code,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    expiresAt: row.expires_at,
    ownerInstance: row.owner_instance,
  };
}
