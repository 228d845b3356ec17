/**
 * Patients exactly once (DESIGN.md section 4, "patient creation is reconciled by marker like appointments"; issue
 * 10 item 5). The simulated records system keeps no marker on patients, so a create is reconciled by searching for
 * exactly what it wrote (`Connector.findCreatedPatients`), minus the matches that existed before it was sent:
 * - every attempt is persisted (`writing`) before the write, and ends `written`, `failed`, or `unknown` when the
 *   outcome cannot be known (time-out, dropped connection, an error after the write);
 * - an `unknown` attempt is searched for at once, and again before the same person is ever written again: found,
 *   it is stored and answered as created; not found, it is `absent` and may be written anew;
 * - registrations of a tenant run one at a time through a lock row in the store, so two requests (on one instance
 *   or two) cannot both create the same person: the second finds the first one's patient.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Patient } from '@medplum/fhirtypes';
import type { Connector, UpstreamRecord } from '../connectors/connector.js';
import { toFhirResources } from '../connectors/resolve-fhir-ids.js';
import { isUpstreamError } from '../connectors/upstream-error.js';
import { recordChanges } from '../events/change-writer.js';
import type { Store } from '../store/database.js';
import {
  insertPatientRegistration,
  tryLockPatientRegistrations,
  unlockPatientRegistrations,
  unresolvedPatientRegistrations,
  updatePatientRegistration,
  updatePatientRegistrationInTransaction,
  type PatientRegistrationAttempt,
} from '../store/patient-registration-store.js';
import { readResource } from '../store/resource-store.js';
import { patientMessages } from './booking-types.js';
import {
  NEEDS_REVIEW_TAG,
  matchPatients,
  personKey,
  type PatientRegistration,
  type PatientRegistrationOutcome,
  type PatientRegistrationPending,
} from './patient-registration.js';
import { classifyUpstream } from './saga/saga-failure.js';

export interface PatientRegistrarOptions {
  store: Store;
  now: () => Date;
  /** The lock passes on after this when its holder died mid-registration. Default 60 s. */
  lockTtlMs?: number;
  /** The longest a registration waits for the tenant's lock before answering `ehr-unavailable`. Default 30 s. */
  lockWaitMs?: number;
}

const PENDING_MESSAGE =
  'We could not confirm yet whether the patient was registered; please try again in a moment.';
const LOCK_POLL_MS = 20;

/** What reconciling an attempt found: the patient it created, nothing (`absent`), or still nothing known. */
type Reconciled = PatientRegistration | 'absent' | 'unknown';

/**
 * Registers new patients per tenant, exactly once in the records system (see the module comment). Upstream
 * errors become typed failures; an unknown outcome that a search cannot settle becomes
 * {@link PatientRegistrationPending}.
 */
export class PatientRegistrar {
  constructor(private readonly options: PatientRegistrarOptions) {}

  /**
   * Returns the patient matching `patient` with certainty, or creates it upstream and stores it tagged
   * {@link NEEDS_REVIEW_TAG} with a `patient.created` journal event carrying `needsReview: true`.
   *
   * The tag lives in `meta`, which sync's content hash ignores, so later passes over the unchanged upstream record
   * keep it; when staff edit the patient upstream, the new version comes without it (reviewed).
   */
  async register(
    tenantId: string,
    connector: Connector,
    patient: Patient,
    clientId?: string,
  ): Promise<PatientRegistrationOutcome> {
    const holder = randomUUID();
    if (!(await this.lock(tenantId, holder))) {
      return {
        ok: false,
        code: 'ehr-unavailable',
        message: patientMessages['ehr-unavailable'],
        retryAfterSeconds: 1,
        alternatives: [],
      };
    }
    try {
      return await this.registerLocked(tenantId, connector, patient, clientId);
    } catch (err) {
      if (!isUpstreamError(err)) throw err;
      const failure = classifyUpstream(err);
      return {
        ok: false,
        code: failure.code,
        message: patientMessages[failure.code],
        retryAfterSeconds: failure.retryAfterSeconds,
        alternatives: [],
      };
    } finally {
      await unlockPatientRegistrations(this.options.store, tenantId, holder);
    }
  }

  private async registerLocked(
    tenantId: string,
    connector: Connector,
    patient: Patient,
    clientId: string | undefined,
  ): Promise<PatientRegistrationOutcome> {
    const { store } = this.options;
    const fingerprint = personKey(patient);
    // An earlier attempt for this person may have created it: settle that before anything is written again.
    for (const earlier of await unresolvedPatientRegistrations(store, tenantId, fingerprint)) {
      const found = await this.reconcile(tenantId, connector, earlier);
      if (found === 'unknown') return this.pending(earlier.id);
      if (found !== 'absent') return found;
    }

    const [existing] = await matchPatients(store, tenantId, patient, { limit: 1 });
    if (existing?.grade === 'certain') {
      return {
        ok: true,
        created: false,
        patient: existing.patient,
        versionId: existing.versionId,
        lastUpdated: existing.lastUpdated,
      };
    }

    // Whoever already matches upstream is not what this write creates; a failing search fails before any write.
    const preexisting = connector.capabilities.findPatients
      ? (await connector.findCreatedPatients(patient)).map((r) => r.upstreamId)
      : [];
    const attempt: PatientRegistrationAttempt = {
      id: randomUUID(),
      state: 'writing',
      fingerprint,
      request: JSON.stringify(patient),
      preexisting,
      clientId: clientId ?? null,
      upstreamId: null,
      patientId: null,
      createdAt: this.options.now().toISOString(),
    };
    await insertPatientRegistration(store, tenantId, attempt, this.options.now());
    let record: UpstreamRecord<Patient>;
    try {
      record = await connector.createPatient(patient);
    } catch (err) {
      if (!isUpstreamError(err) || err.outcome === 'unknown') {
        await updatePatientRegistration(
          store,
          tenantId,
          attempt.id,
          { state: 'unknown' },
          this.options.now(),
        );
        const found = await this.reconcile(tenantId, connector, attempt);
        if (found === 'unknown') return this.pending(attempt.id);
        if (found !== 'absent') return found;
        // Searched after the failed write and not there: nothing was created.
        if (!isUpstreamError(err)) throw err;
      } else {
        await updatePatientRegistration(store, tenantId, attempt.id, { state: 'failed' }, this.options.now());
      }
      throw err;
    }
    return this.stored(tenantId, attempt, record);
  }

  /** Searches the records system for what `attempt` may have created. */
  private async reconcile(
    tenantId: string,
    connector: Connector,
    attempt: PatientRegistrationAttempt,
  ): Promise<Reconciled> {
    if (!connector.capabilities.findPatients) return 'unknown';
    let found: UpstreamRecord<Patient>[];
    try {
      found = await connector.findCreatedPatients(JSON.parse(attempt.request) as Patient);
    } catch (err) {
      if (isUpstreamError(err)) return 'unknown';
      throw err;
    }
    const created = found
      .filter((r) => !attempt.preexisting.includes(r.upstreamId))
      .sort((a, b) => a.upstreamId.localeCompare(b.upstreamId, 'en', { numeric: true }))[0];
    if (!created) {
      await updatePatientRegistration(
        this.options.store,
        tenantId,
        attempt.id,
        { state: 'absent' },
        this.options.now(),
      );
      return 'absent';
    }
    return this.stored(tenantId, attempt, created);
  }

  /** Stores the created patient, its `patient.created` event and the attempt's end in one transaction. */
  private async stored(
    tenantId: string,
    attempt: PatientRegistrationAttempt,
    record: UpstreamRecord<Patient>,
  ): Promise<PatientRegistration> {
    const { store } = this.options;
    const now = this.options.now();
    const [mapped] = await toFhirResources(store, tenantId, [record]);
    if (!mapped?.id) throw new Error('the created patient has no id');
    const resource = { ...mapped, id: mapped.id, meta: { tag: [{ ...NEEDS_REVIEW_TAG }] } };
    await store.write(async (trx) => {
      await recordChanges(
        trx,
        tenantId,
        {
          resources: [{ op: 'upsert', resource }],
          events: [
            {
              eventType: 'patient.created',
              resourceType: 'Patient',
              resourceId: resource.id,
              payload: {
                needsReview: true,
                via: 'switchboard',
                ...(attempt.clientId ? { clientId: attempt.clientId } : {}),
              },
            },
          ],
        },
        now,
      );
      await updatePatientRegistrationInTransaction(
        trx,
        tenantId,
        attempt.id,
        { state: 'written', upstreamId: record.upstreamId, patientId: resource.id },
        now,
      );
    });
    const stored = await readResource(store, tenantId, 'Patient', resource.id);
    if (!stored) throw new Error('the created patient is not readable');
    return {
      ok: true,
      created: true,
      patient: { ...stored.resource, id: resource.id },
      versionId: stored.versionId,
      lastUpdated: stored.lastUpdated,
    };
  }

  private pending(registrationId: string): PatientRegistrationPending {
    return { ok: false, pending: true, registrationId, message: PENDING_MESSAGE, retryAfterSeconds: 2 };
  }

  /** Waits for the tenant's registration lock; false when it stayed taken for `lockWaitMs`. */
  private async lock(tenantId: string, holder: string): Promise<boolean> {
    const ttl = this.options.lockTtlMs ?? 60_000;
    const giveUpAt = Date.now() + (this.options.lockWaitMs ?? 30_000);
    for (;;) {
      const now = this.options.now();
      const taken = await tryLockPatientRegistrations(
        this.options.store,
        tenantId,
        holder,
        now,
        new Date(now.getTime() + ttl),
      );
      if (taken) return true;
      if (Date.now() >= giveUpAt) return false;
      await sleep(LOCK_POLL_MS);
    }
  }
}
