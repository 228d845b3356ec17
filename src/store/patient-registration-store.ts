/**
 * Persisted patient registrations and the per-tenant registration lock (DESIGN.md section 4, "patient creation is
 * reconciled by marker like appointments"; issue 10 item 5). The lock lives in the database, not in a process, so
 * two instances sharing one store register a tenant's patients one at a time.
 */
import type { Store, StoreTransaction } from './database.js';

/** `writing` → `written` | `unknown` | `failed`; `unknown` → `written` | `absent` once reconciled. */
export type PatientRegistrationState = 'writing' | 'written' | 'unknown' | 'absent' | 'failed';

export interface PatientRegistrationAttempt {
  id: string;
  state: PatientRegistrationState;
  fingerprint: string;
  /** JSON of the FHIR Patient written. */
  request: string;
  /** Upstream ids that matched the person before the write. */
  preexisting: string[];
  clientId: string | null;
  upstreamId: string | null;
  patientId: string | null;
  createdAt: string;
}

export async function insertPatientRegistration(
  store: Store,
  tenantId: string,
  attempt: Pick<PatientRegistrationAttempt, 'id' | 'fingerprint' | 'request' | 'preexisting' | 'clientId'>,
  now: Date,
): Promise<void> {
  await store.write((trx) =>
    trx
      .insertInto('patient_registrations')
      .values({
        tenant_id: tenantId,
        id: attempt.id,
        state: 'writing',
        fingerprint: attempt.fingerprint,
        request: attempt.request,
        preexisting: JSON.stringify(attempt.preexisting),
        client_id: attempt.clientId,
        upstream_id: null,
        patient_id: null,
        created_at: now.toISOString(),
        updated_at: now.toISOString(),
      })
      .execute(),
  );
}

export interface PatientRegistrationPatch {
  state: PatientRegistrationState;
  upstreamId?: string;
  patientId?: string;
}

/** Moves an attempt to `state` (and records what it created, when it did). */
export function updatePatientRegistration(
  store: Store,
  tenantId: string,
  id: string,
  patch: PatientRegistrationPatch,
  now: Date,
): Promise<void> {
  return store.write((trx) => updatePatientRegistrationInTransaction(trx, tenantId, id, patch, now));
}

/** {@link updatePatientRegistration} inside the caller's transaction (with the patient it stores). */
export async function updatePatientRegistrationInTransaction(
  trx: StoreTransaction,
  tenantId: string,
  id: string,
  patch: PatientRegistrationPatch,
  now: Date,
): Promise<void> {
  await trx
    .updateTable('patient_registrations')
    .set({
      state: patch.state,
      ...(patch.upstreamId !== undefined ? { upstream_id: patch.upstreamId } : {}),
      ...(patch.patientId !== undefined ? { patient_id: patch.patientId } : {}),
      updated_at: now.toISOString(),
    })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .execute();
}

/** Attempts for this person whose outcome is not known (`writing` after a crash, or `unknown`), oldest first. */
export async function unresolvedPatientRegistrations(
  store: Store,
  tenantId: string,
  fingerprint: string,
): Promise<PatientRegistrationAttempt[]> {
  const rows = await store.db
    .selectFrom('patient_registrations')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('fingerprint', '=', fingerprint)
    .where('state', 'in', ['writing', 'unknown'])
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    state: r.state as PatientRegistrationState,
    fingerprint: r.fingerprint,
    request: r.request,
    preexisting: JSON.parse(r.preexisting) as string[],
    clientId: r.client_id,
    upstreamId: r.upstream_id,
    patientId: r.patient_id,
    createdAt: r.created_at,
  }));
}

/**
 * Takes the tenant's registration lock for `holder` until `expiresAt` when it is free or expired (a dead holder's
 * lock passes on once it expires). True when taken.
 */
export async function tryLockPatientRegistrations(
  store: Store,
  tenantId: string,
  holder: string,
  now: Date,
  expiresAt: Date,
): Promise<boolean> {
  return store.write(async (trx) => {
    await trx
      .deleteFrom('patient_registration_locks')
      .where('tenant_id', '=', tenantId)
      .where('expires_at', '<=', now.toISOString())
      .execute();
    const result = await trx
      .insertInto('patient_registration_locks')
      .values({ tenant_id: tenantId, holder, expires_at: expiresAt.toISOString() })
      .onConflict((oc) => oc.column('tenant_id').doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  });
}

/** Gives the lock up, if `holder` still has it. */
export async function unlockPatientRegistrations(
  store: Store,
  tenantId: string,
  holder: string,
): Promise<void> {
  await store.write((trx) =>
    trx
      .deleteFrom('patient_registration_locks')
      .where('tenant_id', '=', tenantId)
      .where('holder', '=', holder)
      .execute(),
  );
}
