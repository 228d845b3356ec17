/**
 * Booking as a saga, persisted step by step (DESIGN.md section 4): validate → hold locally → live re-check in the
 * records system → write with a correlation marker → read back and verify → commit store + journal.
 * "Booked" means booked, exactly once, in the records system: a definite failure compensates and releases; an
 * unknown outcome is reconciled by marker, never re-sent blindly; the recovery worker finishes or undoes whatever
 * a crash left in flight.
 */
import { randomUUID } from 'node:crypto';
import { bulkhead, type BulkheadPolicy } from 'cockatiel';
import type { Appointment, Patient, Slot } from '@medplum/fhirtypes';
import type { TenantConfig } from '../config.js';
import type { AppointmentWrite, Connector, UpstreamRecord } from '../connectors/connector.js';
import { toFhirResources } from '../connectors/resolve-fhir-ids.js';
import { formatCorrelationMarker } from '../connectors/sim/sim-fhir-context.js';
import { isUpstreamError, type UpstreamError } from '../connectors/upstream-error.js';
import type { Logger } from '../logger.js';
import { appendJournalInTransaction, commitChangesInTransaction } from '../events/change-writer.js';
import type { EventType, JournalEventInput } from '../events/event-types.js';
import type { Store, StoreTransaction } from '../store/database.js';
import { isUniqueViolation } from '../store/dialect-capabilities.js';
import { readResource } from '../store/resource-store.js';
import { upstreamIdFor } from '../store/upstream-ids.js';
import {
  patientMessages,
  type BookingFailure,
  type BookingFailureCode,
  type BookingOutcome,
  type BookingRequest,
  type HeldTime,
  type HoldOutcome,
  type HoldRequest,
  type SagaKind,
} from './booking-types.js';
import {
  insertSaga,
  promoteHoldInTransaction,
  readSaga,
  staleSagas,
  updateSaga,
  updateSagaInTransaction,
  type Saga,
  type SagaRequest,
} from './saga-store.js';
import { purgeExpiredIdempotencyRecords } from './idempotency-store.js';
import { registerPatient, type PatientRegistrationOutcome } from './patient-registration.js';
import { claimTime, onClaimGrid, releaseClaims } from './time-claims.js';

/** Where a requested time stands against the practice's rules, as read from the store. */
export type RuleVerdict =
  | {
      ok: true;
      /** The type is for new patients only: booking checks the patient's history upstream. */ newPatientOnly: boolean;
    }
  | { ok: false; code: BookingFailureCode; message?: string };

/** The availability rules booking consults (implemented over the store by `src/availability`). */
export interface BookingRules {
  /** Hours, blocks, type windows, new-patient rules, notice and horizon; appointments already in the store. */
  check(
    tenant: TenantConfig,
    request: BookingRequest & { ignoreAppointmentId?: string },
    now: Date,
  ): Promise<RuleVerdict>;
  /** Up to `limit` free slots near the request: same type and practitioner first, then others. */
  alternatives(tenant: TenantConfig, request: BookingRequest, now: Date, limit: number): Promise<Slot[]>;
}

export interface BookingTenant {
  config: TenantConfig;
  connector: Connector;
}

export interface BookingServiceOptions {
  store: Store;
  tenants: readonly BookingTenant[];
  rules: BookingRules;
  logger: Logger;
  now?: () => Date;
  /** A saga step not finished within this is considered abandoned by the recovery worker. */
  holdTtlMs?: number;
  /** How often the recovery worker looks for abandoned sagas; 0 turns it off. */
  recoveryIntervalMs?: number;
  /**
   * Test seam for the crash tests (reliability.md §7 row 7), never set in production: awaited at each saga
   * checkpoint so a test process can die there with SIGKILL and a fresh process's recovery worker must converge.
   * See {@link SagaCheckpoint}. Default: nothing.
   */
  checkpoint?: (step: SagaCheckpoint) => void | Promise<void>;
}

/**
 * Where {@link BookingServiceOptions.checkpoint} is called:
 * - `held`: the hold transaction (saga row + claims) has committed; nothing was sent upstream.
 * - `write-sent`: the upstream write has been started but its answer is not processed yet; awaited while the
 *   request is in flight, so a hook that waits until the records system shows the write models a crash between
 *   the request arriving and its answer being handled.
 * - `written`: the upstream write answered success (the 201), before the saga row records it.
 * - `verified`: the read-back found no clash, before the commit transaction.
 * - `committed`: the commit transaction (store + journal + saga state + claims released) has committed.
 */
export type SagaCheckpoint = 'held' | 'write-sent' | 'written' | 'verified' | 'committed';

/** Journal events of a saga that ends without a booking. */
type ReleaseEvent =
  'booking.rolled-back' | 'booking.failed' | 'booking.hold-released' | 'booking.hold-expired';

/** Statuses that no longer occupy the practitioner's time. */
const INACTIVE = new Set<Appointment['status']>(['cancelled', 'noshow', 'entered-in-error']);
const occupiesTime = (a: Appointment | undefined): boolean => a !== undefined && !INACTIVE.has(a.status);
/** How far before a requested start an upstream appointment may begin and still overlap it. */
const LOOKBEHIND_MS = 12 * 3600_000;

/** A failure that ends the saga; thrown inside, turned into a {@link BookingFailure} at the edge. */
class SagaFailure extends Error {
  constructor(
    readonly code: BookingFailureCode,
    detail: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(detail);
  }
}

export class BookingService {
  private readonly store: Store;
  private readonly tenants: Map<string, BookingTenant>;
  private readonly now: () => Date;
  private readonly holdTtlMs: number;
  /** Sagas this process is running, so recovery never races them. */
  private readonly active = new Set<string>();
  /** Tails of work run one at a time per key (patient registration per tenant). */
  private readonly queues = new Map<string, Promise<void>>();
  private recoveryTimer: NodeJS.Timeout | undefined;
  private recovering: Promise<void> | undefined;
  private readonly checkpoint: (step: SagaCheckpoint) => void | Promise<void>;
  /**
   * Sagas of a tenant that talk to its records system at once. A saga makes two calls in parallel, so half the
   * connector's concurrency; more queue here instead of overflowing the connector's bulkhead and failing as
   * `ehr-unavailable` (BENCHMARKS.md, booking: 15 of 20 contended slots booked before this, 20 after).
   */
  private readonly lanes = new Map<string, BulkheadPolicy>();

  constructor(private readonly options: BookingServiceOptions) {
    this.store = options.store;
    this.tenants = new Map(options.tenants.map((t) => [t.config.id, t]));
    this.now = options.now ?? (() => new Date());
    this.holdTtlMs = options.holdTtlMs ?? 60_000;
    this.checkpoint = options.checkpoint ?? (() => undefined);
  }

  private inLane(tenantId: string, run: () => Promise<BookingOutcome>): Promise<BookingOutcome> {
    let lane = this.lanes.get(tenantId);
    if (!lane) {
      const concurrency = this.tenant(tenantId).config.connector.maxConcurrency;
      lane = bulkhead(Math.max(1, Math.floor(concurrency / 2)), Number.MAX_SAFE_INTEGER);
      this.lanes.set(tenantId, lane);
    }
    return lane.execute(run);
  }

  /** Starts the recovery worker: one pass now (finishing what a crash left), then periodically. */
  start(): void {
    const interval = this.options.recoveryIntervalMs ?? 15_000;
    void this.recover();
    if (interval > 0) this.recoveryTimer = setInterval(() => void this.recover(), interval);
  }

  async stop(): Promise<void> {
    clearInterval(this.recoveryTimer);
    this.recoveryTimer = undefined;
    await this.recovering;
  }

  /** Books a new appointment. */
  async book(tenantId: string, request: BookingRequest, clientId?: string): Promise<BookingOutcome> {
    return this.inLane(tenantId, () => this.runBook(tenantId, request, clientId));
  }

  private async runBook(
    tenantId: string,
    request: BookingRequest,
    clientId?: string,
  ): Promise<BookingOutcome> {
    const tenant = this.tenant(tenantId);
    const end = new Date(request.start.getTime() + request.minutes * 60_000);
    const sagaId = randomUUID();
    try {
      const verdict = await this.validate(tenant, request, end);
      const sagaRequest = await this.upstreamRequest(tenantId, request);
      const newPatientOnly = verdict.newPatientOnly;
      const saga: Saga = await this.hold(tenantId, {
        id: sagaId,
        kind: 'book',
        clientId: clientId ?? null,
        request: sagaRequest,
        marker: formatCorrelationMarker(sagaId),
        practitionerId: request.practitionerId,
        start: request.start,
        end,
        appointmentId: null,
      });
      this.active.add(sagaId);
      await this.liveRecheck(tenant, saga);
      if (newPatientOnly) await this.requireNewPatient(tenant, saga);
      const written = await this.write(tenant, saga, () =>
        tenant.connector.createAppointment(
          appointmentWrite(sagaRequest, request, saga.marker, request.comment),
        ),
      );
      return await this.verifyAndCommit(tenant, saga, written);
    } catch (err) {
      return this.fail(tenant, sagaId, request, err);
    } finally {
      this.active.delete(sagaId);
    }
  }

  /**
   * Cancels an appointment in the records system and records the cancellation.
   * @param expectedVersion the version the caller saw (If-Match); a newer one answers `version-conflict`.
   */
  async cancel(
    tenantId: string,
    appointmentId: string,
    reason: string,
    options: { expectedVersion?: number; clientId?: string } = {},
  ): Promise<BookingOutcome> {
    return this.inLane(tenantId, () => this.runCancel(tenantId, appointmentId, reason, options));
  }

  private async runCancel(
    tenantId: string,
    appointmentId: string,
    reason: string,
    options: { expectedVersion?: number; clientId?: string },
  ): Promise<BookingOutcome> {
    const tenant = this.tenant(tenantId);
    const sagaId = randomUUID();
    try {
      const { appointment, upstreamId } = await this.existing(
        tenantId,
        appointmentId,
        options.expectedVersion,
      );
      if (INACTIVE.has(appointment.status)) {
        throw new SagaFailure('invalid-state', `the appointment is already ${appointment.status}`);
      }
      await this.recordSaga(tenantId, sagaId, 'cancel', appointment, upstreamId, options.clientId, {
        cancelReason: reason,
      });
      this.active.add(sagaId);
      const record = await this.write(tenant, await this.sagaOf(tenantId, sagaId), () =>
        tenant.connector.cancelAppointment(upstreamId, reason),
      );
      return await this.commit(tenant, await this.sagaOf(tenantId, sagaId), record, 'appointment.cancelled');
    } catch (err) {
      return this.fail(tenant, sagaId, undefined, err);
    } finally {
      this.active.delete(sagaId);
    }
  }

  /**
   * Moves an appointment to a new time in one upstream write (the records system modifies it in place), so the
   * patient never has zero or two appointments.
   */
  async reschedule(
    tenantId: string,
    appointmentId: string,
    change: { start: Date; minutes?: number },
    options: { expectedVersion?: number; clientId?: string } = {},
  ): Promise<BookingOutcome> {
    return this.inLane(tenantId, () => this.runReschedule(tenantId, appointmentId, change, options));
  }

  private async runReschedule(
    tenantId: string,
    appointmentId: string,
    change: { start: Date; minutes?: number },
    options: { expectedVersion?: number; clientId?: string },
  ): Promise<BookingOutcome> {
    const tenant = this.tenant(tenantId);
    const sagaId = randomUUID();
    let request: BookingRequest | undefined;
    try {
      const { appointment, upstreamId } = await this.existing(
        tenantId,
        appointmentId,
        options.expectedVersion,
      );
      if (INACTIVE.has(appointment.status) || appointment.status === 'fulfilled') {
        throw new SagaFailure('invalid-state', `the appointment is ${appointment.status}`);
      }
      request = requestFromAppointment(appointment, change.start, change.minutes);
      const end = new Date(request.start.getTime() + request.minutes * 60_000);
      await this.validate(tenant, { ...request, ignoreAppointmentId: appointmentId }, end);
      const sagaRequest = {
        ...(await this.upstreamRequest(tenantId, request)),
        existingUpstreamId: upstreamId,
      };
      const saga = await this.hold(
        tenantId,
        {
          id: sagaId,
          kind: 'reschedule',
          clientId: options.clientId ?? null,
          request: sagaRequest,
          marker: formatCorrelationMarker(sagaId),
          practitionerId: request.practitionerId,
          start: request.start,
          end,
          appointmentId,
        },
        appointmentId,
      );
      this.active.add(sagaId);
      await this.liveRecheck(tenant, saga, upstreamId);
      const fixedRequest = request;
      const written = await this.write(tenant, saga, () =>
        tenant.connector.rescheduleAppointment(
          upstreamId,
          // The appointment keeps its comment, and the marker it was booked with when it has one.
          appointmentWrite(
            sagaRequest,
            fixedRequest,
            appointment.identifier?.find((i) => i.value?.startsWith('switchboard:'))?.value ?? saga.marker,
            appointment.comment,
          ),
        ),
      );
      return await this.verifyAndCommit(tenant, saga, written);
    } catch (err) {
      return this.fail(tenant, sagaId, request, err);
    } finally {
      this.active.delete(sagaId);
    }
  }

  /**
   * Holds time for a booking confirmed later (IHE ITI-116 `$hold`, standards.md 1.3): validated like {@link book},
   * then claimed locally by a saga of kind `hold`. Nothing is sent upstream, so a hold never shows in the records
   * system; its claims are busy time to every other booking and slot search. It lasts `ttlMs`: {@link confirmHold}
   * books it, {@link releaseHold} gives it up, and the recovery worker releases it once it has expired.
   */
  async holdTime(
    tenantId: string,
    request: HoldRequest,
    options: { ttlMs: number; clientId?: string },
  ): Promise<HoldOutcome> {
    const tenant = this.tenant(tenantId);
    const end = new Date(request.start.getTime() + request.minutes * 60_000);
    const sagaId = randomUUID();
    const asBooking: BookingRequest = { ...request, patientId: request.patientId ?? '' };
    try {
      const verdict = await this.validate(tenant, asBooking, end);
      const sagaRequest: SagaRequest = {
        ...(await this.upstreamRequest(tenantId, request)),
        newPatientOnly: verdict.newPatientOnly,
        fromHold: true,
      };
      await this.hold(
        tenantId,
        {
          id: sagaId,
          kind: 'hold',
          clientId: options.clientId ?? null,
          request: sagaRequest,
          marker: formatCorrelationMarker(sagaId),
          practitionerId: request.practitionerId,
          start: request.start,
          end,
          appointmentId: null,
        },
        undefined,
        options.ttlMs,
      );
      return { ok: true, hold: heldTimeOf(await this.sagaOf(tenantId, sagaId)) };
    } catch (err) {
      return this.fail(tenant, sagaId, asBooking, err);
    }
  }

  /** A hold made by {@link holdTime}, in whatever state it is now; undefined for any other id. */
  async readHold(tenantId: string, holdId: string): Promise<HeldTime | undefined> {
    const saga = await readSaga(this.store, tenantId, holdId);
    return saga?.request.fromHold === true ? heldTimeOf(saga) : undefined;
  }

  /**
   * Books a hold (IHE ITI-117 `$book` of a pending appointment): the saga keeps its claims and marker and goes on
   * from the live re-check, exactly like {@link book}. A hold already booked answers its appointment again; one
   * that lapsed (or was released) is booked afresh if the time is still free.
   */
  async confirmHold(
    tenantId: string,
    holdId: string,
    details: { patientId?: string; comment?: string },
    options: { clientId?: string } = {},
  ): Promise<BookingOutcome> {
    return this.inLane(tenantId, () => this.runConfirmHold(tenantId, holdId, details, options));
  }

  private async runConfirmHold(
    tenantId: string,
    holdId: string,
    details: { patientId?: string; comment?: string },
    options: { clientId?: string },
  ): Promise<BookingOutcome> {
    const tenant = this.tenant(tenantId);
    for (let attempt = 0; ; attempt++) {
      const saga = await readSaga(this.store, tenantId, holdId);
      if (saga?.request.fromHold !== true) return this.refuse(tenant, 'not-found', `no hold ${holdId}`);
      const request: BookingRequest = {
        patientId: details.patientId ?? saga.request.patientId,
        practitionerId: saga.practitionerId,
        locationId: saga.request.locationId,
        appointmentTypeCode: saga.request.appointmentTypeCode,
        start: saga.start,
        minutes: saga.request.minutes,
        comment: details.comment ?? saga.request.comment,
      };
      if (saga.state === 'committed') {
        const stored = saga.appointmentId
          ? await readResource(this.store, tenantId, 'Appointment', saga.appointmentId)
          : undefined;
        if (!stored || stored.deleted) {
          return this.refuse(tenant, 'invalid-state', 'the appointment booked from that hold is gone');
        }
        return {
          ok: true,
          appointment: stored.resource,
          versionId: stored.versionId,
          bookingId: saga.id,
          created: false,
        };
      }
      if (request.patientId === '') return this.refuse(tenant, 'not-found', 'the hold names no patient');
      if (saga.state === 'released') {
        return this.runBook(tenantId, request, options.clientId ?? saga.clientId ?? undefined);
      }
      if (saga.kind !== 'hold' || attempt > 2) {
        return this.refuse(tenant, 'invalid-state', 'that hold is being booked already');
      }
      const patientUpstreamId = await upstreamIdFor(this.store, tenantId, 'Patient', request.patientId);
      if (patientUpstreamId === undefined) {
        return this.refuse(tenant, 'not-found', `Patient/${request.patientId} is not known`);
      }
      const sagaRequest: SagaRequest = {
        ...saga.request,
        patientId: request.patientId,
        patientUpstreamId,
        comment: request.comment,
      };
      const promoted = await this.store.write((trx) =>
        promoteHoldInTransaction(trx, tenantId, holdId, sagaRequest, this.now()),
      );
      // Released by recovery or confirmed by someone else meanwhile: look again.
      if (!promoted) continue;
      this.active.add(holdId);
      try {
        const booking = await this.sagaOf(tenantId, holdId);
        await this.liveRecheck(tenant, booking);
        if (sagaRequest.newPatientOnly) await this.requireNewPatient(tenant, booking);
        const written = await this.write(tenant, booking, () =>
          tenant.connector.createAppointment({
            patientUpstreamId,
            practitionerUpstreamId: sagaRequest.practitionerUpstreamId,
            locationUpstreamId: sagaRequest.locationUpstreamId,
            appointmentTypeCode: request.appointmentTypeCode,
            start: request.start,
            minutes: request.minutes,
            comment: request.comment,
            marker: booking.marker,
          }),
        );
        return await this.verifyAndCommit(tenant, booking, written);
      } catch (err) {
        return this.fail(tenant, holdId, request, err);
      } finally {
        this.active.delete(holdId);
      }
    }
  }

  /** Gives up a hold (the client cancelled it): its claims are released at once. */
  async releaseHold(tenantId: string, holdId: string): Promise<HoldOutcome> {
    const tenant = this.tenant(tenantId);
    const saga = await readSaga(this.store, tenantId, holdId);
    if (saga?.request.fromHold !== true) return this.refuse(tenant, 'not-found', `no hold ${holdId}`);
    const released =
      saga.kind === 'hold' &&
      saga.state === 'held' &&
      (await this.release(tenantId, holdId, 'released by the client', 'booking.hold-released', undefined, {
        kind: saga.kind,
        state: saga.state,
        updatedAt: saga.updatedAt,
      }));
    if (!released) return this.refuse(tenant, 'invalid-state', 'that hold was already booked or released');
    return { ok: true, hold: heldTimeOf(await this.sagaOf(tenantId, holdId)) };
  }

  /**
   * Registers a new patient (DESIGN.md section 4: "new patients created by booking are flagged for staff review"):
   * an existing patient matching with certainty (name, birth date and phone, or an identifier) is returned instead
   * of a duplicate; otherwise the patient is created in the records system, stored tagged
   * {@link NEEDS_REVIEW_TAG}, and journalled as `patient.created` with `needsReview`. One registration per tenant
   * runs at a time in this process, so two concurrent requests for the same person create it once.
   */
  registerPatient(
    tenantId: string,
    patient: Patient,
    options: { clientId?: string } = {},
  ): Promise<PatientRegistrationOutcome> {
    const tenant = this.tenant(tenantId);
    return this.serialized(`patient:${tenantId}`, async () => {
      try {
        return await registerPatient(
          { store: this.store, tenantId, connector: tenant.connector, now: this.now() },
          patient,
          options.clientId,
        );
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
      }
    });
  }

  /** Runs `fn` after every earlier call with the same key has settled. */
  private serialized<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(key) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(key, tail);
    void tail.then(() => {
      if (this.queues.get(key) === tail) this.queues.delete(key);
    });
    return run;
  }

  /** A typed failure that touches no saga. */
  private refuse(tenant: BookingTenant, code: BookingFailureCode, detail: string): Promise<BookingFailure> {
    return this.fail(tenant, randomUUID(), undefined, new SagaFailure(code, detail));
  }

  /**
   * The recovery worker: finishes or undoes every saga whose last step is older than the hold TTL — in practice
   * those a crashed process left behind — and releases `$hold`s that expired. Safe to run on several instances: a
   * saga's steps are idempotent. Also purges expired idempotency records.
   */
  recover(): Promise<void> {
    this.recovering ??= (async () => {
      try {
        // Idempotency records past their retention go too (claims purge their own tenant's as they come).
        await purgeExpiredIdempotencyRecords(this.store, this.now()).catch((err: unknown) =>
          this.options.logger.warn({ err }, 'purging expired idempotency records failed'),
        );
        const staleBefore = new Date(this.now().getTime() - this.holdTtlMs);
        for (const tenant of this.tenants.values()) {
          for (const saga of await staleSagas(this.store, tenant.config.id, staleBefore, this.now())) {
            if (this.active.has(saga.id)) continue;
            await this.recoverSaga(tenant, saga).catch((err: unknown) =>
              this.options.logger.warn(
                { err, tenant: tenant.config.id, saga: saga.id },
                'saga recovery failed',
              ),
            );
          }
        }
      } finally {
        this.recovering = undefined;
      }
    })();
    return this.recovering;
  }

  private async recoverSaga(tenant: BookingTenant, saga: Saga): Promise<void> {
    const log = this.options.logger.child({ tenant: saga.tenantId, saga: saga.id, state: saga.state });
    switch (saga.state) {
      case 'held':
        // Nothing was sent upstream: release the time. A `$hold` that lapsed is no failure, just expired. The
        // guard skips a hold confirmed since it was listed.
        if (saga.kind === 'hold') {
          await this.release(saga.tenantId, saga.id, 'the hold expired', 'booking.hold-expired', undefined, {
            kind: saga.kind,
            state: saga.state,
            updatedAt: saga.updatedAt,
          });
          log.info('released an expired hold');
        } else {
          await this.release(
            saga.tenantId,
            saga.id,
            'rolled back after a restart',
            'booking.rolled-back',
            undefined,
            {
              kind: saga.kind,
              state: saga.state,
              updatedAt: saga.updatedAt,
            },
          );
          log.info('released an abandoned hold');
        }
        return;
      case 'writing':
      case 'unknown':
      case 'written': {
        const record = await this.reconcile(tenant, saga);
        if (!record) {
          await this.release(saga.tenantId, saga.id, 'not written upstream', 'booking.rolled-back');
          log.info('abandoned write never reached the records system; released');
          return;
        }
        if (saga.kind === 'cancel') await this.commit(tenant, saga, record, 'appointment.cancelled');
        else await this.verifyAndCommit(tenant, saga, record);
        log.info('finished an abandoned saga');
        return;
      }
      case 'compensating':
        await this.compensate(tenant, saga, 'finishing an interrupted rollback');
        return;
      case 'committed':
      case 'released':
        return;
    }
  }

  private tenant(tenantId: string): BookingTenant {
    const tenant = this.tenants.get(tenantId);
    if (!tenant) throw new Error(`unknown tenant ${tenantId}`);
    return tenant;
  }

  private async sagaOf(tenantId: string, id: string): Promise<Saga> {
    const saga = await readSaga(this.store, tenantId, id);
    if (!saga) throw new Error(`saga ${id} vanished`);
    return saga;
  }

  private async upstreamRequest(tenantId: string, request: HoldRequest): Promise<SagaRequest> {
    const lookup = async (type: 'Patient' | 'Practitioner' | 'Location', id: string): Promise<string> => {
      const upstream = await upstreamIdFor(this.store, tenantId, type, id);
      if (upstream === undefined) throw new SagaFailure('not-found', `${type}/${id} is not known`);
      return upstream;
    };
    return {
      patientId: request.patientId ?? '',
      locationId: request.locationId,
      appointmentTypeCode: request.appointmentTypeCode,
      minutes: request.minutes,
      comment: request.comment,
      patientUpstreamId: request.patientId === undefined ? '' : await lookup('Patient', request.patientId),
      practitionerUpstreamId: await lookup('Practitioner', request.practitionerId),
      locationUpstreamId: await lookup('Location', request.locationId),
    };
  }

  /** The appointment as stored, checked against the version the caller saw. */
  private async existing(
    tenantId: string,
    appointmentId: string,
    expectedVersion: number | undefined,
  ): Promise<{ appointment: Appointment; upstreamId: string; versionId: number }> {
    const stored = await readResource(this.store, tenantId, 'Appointment', appointmentId);
    const upstreamId = await upstreamIdFor(this.store, tenantId, 'Appointment', appointmentId);
    if (!stored || stored.deleted || upstreamId === undefined) {
      throw new SagaFailure('not-found', `Appointment/${appointmentId} is not known`);
    }
    if (expectedVersion !== undefined && expectedVersion !== stored.versionId) {
      throw new SagaFailure(
        'version-conflict',
        `Appointment/${appointmentId} is at version ${stored.versionId}, not ${expectedVersion}`,
      );
    }
    return { appointment: stored.resource, upstreamId, versionId: stored.versionId };
  }

  /** Step 2: claim the time locally (and check the store) in one transaction, writing the saga row. */
  private async hold(
    tenantId: string,
    saga: Omit<
      Saga,
      'tenantId' | 'state' | 'upstreamId' | 'errorCode' | 'createdAt' | 'updatedAt' | 'expiresAt'
    >,
    ignoreAppointmentId?: string,
    ttlMs: number = this.holdTtlMs,
  ): Promise<Saga> {
    const now = this.now();
    try {
      await this.store.write(async (trx) => {
        if (
          await overlapsStoredAppointment(
            trx,
            tenantId,
            saga.practitionerId,
            saga.start,
            saga.end,
            ignoreAppointmentId,
          )
        ) {
          throw new SagaFailure('slot-taken', 'an appointment already occupies that time');
        }
        await insertSaga(trx, { ...saga, tenantId }, now, ttlMs);
        await claimTime(trx, tenantId, saga.practitionerId, saga.start, saga.end, saga.id);
      });
    } catch (err) {
      if (isUniqueViolation(this.store.capabilities, err)) {
        throw new SagaFailure('slot-taken', 'another booking holds that time');
      }
      throw err;
    }
    await this.checkpoint('held');
    return this.sagaOf(tenantId, saga.id);
  }

  /** Step 1: the practice's rules over the store, and the 5-minute grid time claims need. */
  private async validate(
    tenant: BookingTenant,
    request: BookingRequest & { ignoreAppointmentId?: string },
    end: Date,
  ): Promise<Extract<RuleVerdict, { ok: true }>> {
    const verdict = await this.options.rules.check(tenant.config, request, this.now());
    if (!verdict.ok) throw new SagaFailure(verdict.code, verdict.message ?? verdict.code);
    if (!onClaimGrid(request.start, end)) {
      throw new SagaFailure('rule-violated', 'start and duration must be whole multiples of 5 minutes');
    }
    return verdict;
  }

  /** Step 3: ask the records system itself — never trust the cached copy here. */
  private async liveRecheck(tenant: BookingTenant, saga: Saga, ownUpstreamId?: string): Promise<void> {
    const query = {
      from: new Date(saga.start.getTime() - LOOKBEHIND_MS),
      to: saga.end,
      practitionerUpstreamId: saga.request.practitionerUpstreamId,
    };
    const [appointments, blocks] = await Promise.all([
      tenant.connector.appointmentsInWindow(query),
      tenant.connector.blocksInWindow(query),
    ]);
    const others = appointments.filter((r) => r.upstreamId !== ownUpstreamId);
    const busy = (await toFhirResources(this.store, saga.tenantId, others)).filter(
      (a) => occupiesTime(a) && overlaps(a.start, a.end, saga),
    );
    if (busy.length > 0)
      throw new SagaFailure('slot-taken', 'the records system already has an appointment then');
    const closed = (await toFhirResources(this.store, saga.tenantId, blocks)).filter((b) =>
      overlaps(b.start, b.end, saga),
    );
    if (closed.length > 0)
      throw new SagaFailure('provider-unavailable', 'the records system has that time blocked');
  }

  /** A new-patient visit is for a patient the practice has never seen: no visit in the records system yet. */
  private async requireNewPatient(tenant: BookingTenant, saga: Saga): Promise<void> {
    const history = await toFhirResources(
      this.store,
      saga.tenantId,
      await tenant.connector.patientAppointments(saga.request.patientUpstreamId),
    );
    if (
      history.some(
        (a) =>
          a.status === 'fulfilled' ||
          a.status === 'checked-in' ||
          a.status === 'arrived' ||
          (occupiesTime(a) && Date.parse(a.start ?? '') < saga.start.getTime()),
      )
    ) {
      throw new SagaFailure(
        'rule-violated',
        'a new-patient visit is only for patients who have not been seen before',
      );
    }
  }

  /** Step 4: the upstream write, with the outcome classified; an unknown outcome is reconciled by marker. */
  private async write(
    tenant: BookingTenant,
    saga: Saga,
    send: () => Promise<UpstreamRecord<Appointment>>,
  ): Promise<UpstreamRecord<Appointment>> {
    await updateSaga(this.store, saga.tenantId, saga.id, { state: 'writing' }, this.now());
    try {
      const sending = send();
      // A rejection while the checkpoint runs is handled by the `await` below, not reported as unhandled.
      sending.catch(() => undefined);
      await this.checkpoint('write-sent');
      const record = await sending;
      await this.checkpoint('written');
      await updateSaga(
        this.store,
        saga.tenantId,
        saga.id,
        { state: 'written', upstreamId: record.upstreamId },
        this.now(),
      );
      return record;
    } catch (err) {
      if (!isUpstreamError(err) || err.outcome === 'not-applied') throw err;
      await updateSaga(
        this.store,
        saga.tenantId,
        saga.id,
        { state: 'unknown', errorDetail: err.message },
        this.now(),
      );
      const record = await this.reconcile(tenant, { ...saga, state: 'unknown' });
      if (!record) throw err;
      return record;
    }
  }

  /**
   * After an unknown outcome (or a crash): find what the records system really holds for this saga. Bookings
   * are found by their marker; cancels and reschedules by reading the appointment back. Never re-sends.
   */
  private async reconcile(tenant: BookingTenant, saga: Saga): Promise<UpstreamRecord<Appointment> | null> {
    if (saga.kind === 'book') {
      const found = await tenant.connector.findAppointmentsByMarker(saga.marker);
      if (found.length === 0) return null;
      const [keep, ...extra] = [...found].sort((a, b) => Number(a.upstreamId) - Number(b.upstreamId));
      for (const duplicate of extra) {
        await tenant.connector.cancelAppointment(duplicate.upstreamId, 'Duplicate removed by Switchboard');
      }
      await updateSaga(
        this.store,
        saga.tenantId,
        saga.id,
        { state: 'written', upstreamId: keep?.upstreamId },
        this.now(),
      );
      return keep ?? null;
    }
    const upstreamId = saga.request.existingUpstreamId as string;
    const current = await tenant.connector.readAppointment(upstreamId);
    if (!current) return null;
    const [appointment] = await toFhirResources(this.store, saga.tenantId, [current]);
    const applied =
      saga.kind === 'cancel'
        ? appointment?.status === 'cancelled'
        : appointment?.start !== undefined && Date.parse(appointment.start) === saga.start.getTime();
    return applied ? current : null;
  }

  /** Step 5: the appointment is there once, and nothing else now overlaps it; then step 6. */
  private async verifyAndCommit(
    tenant: BookingTenant,
    saga: Saga,
    written: UpstreamRecord<Appointment>,
  ): Promise<BookingOutcome> {
    const around = await tenant.connector.appointmentsInWindow({
      from: new Date(saga.start.getTime() - LOOKBEHIND_MS),
      to: saga.end,
      practitionerUpstreamId: saga.request.practitionerUpstreamId,
    });
    const resources = await toFhirResources(this.store, saga.tenantId, around);
    const clash = around.some(
      (record, i) =>
        record.upstreamId !== written.upstreamId &&
        occupiesTime(resources[i]) &&
        overlaps(resources[i]?.start, resources[i]?.end, saga),
    );
    if (clash) {
      // The front desk booked the same time a moment ago: theirs stands, ours is undone.
      await this.compensate(
        tenant,
        { ...saga, upstreamId: written.upstreamId },
        'conflicting booking found after writing',
      );
      throw new SagaFailure('slot-taken', 'the records system received another booking for that time');
    }
    const event = saga.kind === 'reschedule' ? 'appointment.rescheduled' : 'appointment.booked';
    await this.checkpoint('verified');
    return this.commit(tenant, saga, written, event);
  }

  /** Step 6: store + journal + saga state in one transaction. */
  private async commit(
    tenant: BookingTenant,
    saga: Saga,
    record: UpstreamRecord<Appointment>,
    eventType: EventType,
  ): Promise<BookingOutcome> {
    const [appointment] = await toFhirResources(this.store, saga.tenantId, [record]);
    if (!appointment?.id) throw new Error('mapped appointment has no id');
    const now = this.now();
    const result = await this.store.write(async (trx) => {
      const committed = await commitChangesInTransaction(
        trx,
        saga.tenantId,
        [{ op: 'upsert', resource: appointment as Appointment & { id: string } }],
        [
          {
            eventType,
            resourceType: 'Appointment',
            resourceId: appointment.id,
            payload: { bookingId: saga.id, via: 'switchboard' },
          },
        ],
        now,
      );
      await updateSagaInTransaction(
        trx,
        saga.tenantId,
        saga.id,
        { state: 'committed', appointmentId: appointment.id },
        now,
      );
      await releaseClaims(trx, saga.tenantId, saga.id);
      return committed;
    });
    await this.checkpoint('committed');
    const stored = await readResource(this.store, saga.tenantId, 'Appointment', appointment.id);
    if (!stored) throw new Error('committed appointment is not readable');
    return {
      ok: true,
      appointment: stored.resource,
      versionId: stored.versionId,
      bookingId: saga.id,
      created: result.written.length > 0 && saga.kind === 'book',
    };
  }

  /** Undoes an upstream booking (cancels it, retrying) and releases the hold. */
  private async compensate(tenant: BookingTenant, saga: Saga, why: string): Promise<void> {
    await updateSaga(
      this.store,
      saga.tenantId,
      saga.id,
      { state: 'compensating', errorDetail: why },
      this.now(),
    );
    if (saga.kind === 'book' && saga.upstreamId) {
      await tenant.connector.cancelAppointment(saga.upstreamId, `Switchboard rollback: ${why}`);
    }
    await this.release(saga.tenantId, saga.id, why, 'booking.rolled-back');
  }

  /**
   * Releases a saga's claims and marks it released, unless it already finished. With `guard.updatedAt`, only if
   * the saga was not touched since (recovery must not release a hold confirmed meanwhile). True when released.
   */
  private async release(
    tenantId: string,
    sagaId: string,
    why: string,
    eventType: ReleaseEvent,
    code?: BookingFailureCode,
    guard: Partial<Pick<Saga, 'kind' | 'state' | 'updatedAt'>> = {},
  ): Promise<boolean> {
    const now = this.now();
    return this.store.write(async (trx) => {
      const saga = await trx
        .selectFrom('booking_sagas')
        .select(['state', 'kind', 'practitioner_id', 'start_at', 'end_at', 'appointment_id', 'updated_at'])
        .where('tenant_id', '=', tenantId)
        .where('id', '=', sagaId)
        .executeTakeFirst();
      if (!saga || saga.state === 'released' || saga.state === 'committed') return false;
      if (
        (guard.updatedAt !== undefined && saga.updated_at !== guard.updatedAt) ||
        (guard.kind !== undefined && saga.kind !== guard.kind) ||
        (guard.state !== undefined && saga.state !== guard.state)
      )
        return false;
      await updateSagaInTransaction(
        trx,
        tenantId,
        sagaId,
        { state: 'released', errorCode: code, errorDetail: why },
        now,
      );
      await releaseClaims(trx, tenantId, sagaId);
      await appendJournalInTransaction(trx, tenantId, [failureEvent(eventType, sagaId, saga, code)], now);
      return true;
    });
  }

  private async recordSaga(
    tenantId: string,
    sagaId: string,
    kind: SagaKind,
    appointment: Appointment,
    upstreamId: string,
    clientId: string | undefined,
    extra: Partial<SagaRequest>,
  ): Promise<void> {
    const practitioner = participantId(appointment, 'Practitioner') ?? '';
    await this.store.write((trx) =>
      insertSaga(
        trx,
        {
          tenantId,
          id: sagaId,
          kind,
          clientId: clientId ?? null,
          request: {
            patientId: participantId(appointment, 'Patient') ?? '',
            locationId: participantId(appointment, 'Location') ?? '',
            appointmentTypeCode: appointment.appointmentType?.coding?.[0]?.code ?? '',
            minutes: appointment.minutesDuration ?? 0,
            patientUpstreamId: '',
            practitionerUpstreamId: '',
            locationUpstreamId: '',
            existingUpstreamId: upstreamId,
            ...extra,
          },
          marker: formatCorrelationMarker(sagaId),
          practitionerId: practitioner,
          start: new Date(appointment.start ?? 0),
          end: new Date(appointment.end ?? 0),
          appointmentId: appointment.id ?? null,
        },
        this.now(),
        this.holdTtlMs,
      ),
    );
  }

  /** The edge: every way a saga can end without success becomes a typed failure, with alternatives. */
  private async fail(
    tenant: BookingTenant,
    sagaId: string,
    request: BookingRequest | undefined,
    err: unknown,
  ): Promise<BookingFailure> {
    const failure = classify(err);
    if (!(err instanceof SagaFailure) && !isUpstreamError(err)) {
      this.options.logger.error(
        { err, tenant: tenant.config.id, saga: sagaId },
        'booking failed unexpectedly',
      );
    }
    const saga = await readSaga(this.store, tenant.config.id, sagaId);
    if (saga && saga.state !== 'committed' && saga.state !== 'released') {
      if (saga.state === 'unknown') {
        // Outcome still unknown after reconciling: leave it to the recovery worker, which keeps looking.
      } else {
        await this.release(tenant.config.id, sagaId, failure.detail, 'booking.failed', failure.code);
      }
    }
    const alternatives =
      request &&
      ['slot-taken', 'outside-hours', 'provider-unavailable', 'rule-violated'].includes(failure.code)
        ? await this.options.rules.alternatives(tenant.config, request, this.now(), 3).catch(() => [])
        : [];
    return {
      ok: false,
      code: failure.code,
      message: patientMessages[failure.code],
      retryAfterSeconds: failure.retryAfterSeconds,
      alternatives,
      bookingId: saga ? sagaId : undefined,
    };
  }
}

function classify(err: unknown): { code: BookingFailureCode; detail: string; retryAfterSeconds?: number } {
  if (err instanceof SagaFailure)
    return { code: err.code, detail: err.message, retryAfterSeconds: err.retryAfterSeconds };
  if (isUpstreamError(err)) return classifyUpstream(err);
  return {
    code: 'ehr-unavailable',
    detail: err instanceof Error ? err.message : String(err),
    retryAfterSeconds: 5,
  };
}

function classifyUpstream(err: UpstreamError): {
  code: BookingFailureCode;
  detail: string;
  retryAfterSeconds?: number;
} {
  switch (err.kind) {
    case 'rate-limited':
      return { code: 'rate-limited', detail: err.message, retryAfterSeconds: err.retryAfterSeconds ?? 5 };
    case 'rejected':
      return { code: 'ehr-rejected', detail: err.message };
    case 'not-found':
      return { code: 'not-found', detail: err.message };
    case 'unavailable':
    case 'timeout':
    case 'unauthorized':
      return { code: 'ehr-unavailable', detail: err.message, retryAfterSeconds: err.retryAfterSeconds ?? 5 };
  }
}

function failureEvent(
  eventType: EventType,
  sagaId: string,
  saga: {
    kind: string;
    practitioner_id: string;
    start_at: string;
    end_at: string;
    appointment_id: string | null;
  },
  code: BookingFailureCode | undefined,
): JournalEventInput {
  return {
    eventType,
    ...(saga.appointment_id ? { resourceType: 'Appointment', resourceId: saga.appointment_id } : {}),
    payload: {
      bookingId: sagaId,
      kind: saga.kind,
      code: code ?? null,
      practitioner: `Practitioner/${saga.practitioner_id}`,
      start: saga.start_at,
      end: saga.end_at,
    },
  };
}

function overlaps(
  start: string | undefined,
  end: string | undefined,
  range: { start: Date; end: Date },
): boolean {
  if (!start || !end) return false;
  return Date.parse(start) < range.end.getTime() && Date.parse(end) > range.start.getTime();
}

async function overlapsStoredAppointment(
  trx: StoreTransaction,
  tenantId: string,
  practitionerId: string,
  start: Date,
  end: Date,
  ignoreAppointmentId: string | undefined,
): Promise<boolean> {
  let query = trx
    .selectFrom('resources')
    .select('id')
    .where('tenant_id', '=', tenantId)
    .where('resource_type', '=', 'Appointment')
    .where('ref_practitioner', '=', practitionerId)
    .where('deleted', '=', 0)
    .where('status', 'not in', [...INACTIVE] as string[])
    .where('period_start', '<', end.toISOString())
    .where('period_end', '>', start.toISOString());
  if (ignoreAppointmentId) query = query.where('id', '!=', ignoreAppointmentId);
  return (await query.limit(1).execute()).length > 0;
}

function participantId(
  appointment: Appointment,
  type: 'Patient' | 'Practitioner' | 'Location',
): string | undefined {
  const reference = appointment.participant
    ?.map((p) => p.actor?.reference)
    .find((r) => r?.startsWith(`${type}/`));
  return reference?.slice(type.length + 1);
}

function requestFromAppointment(appointment: Appointment, start: Date, minutes?: number): BookingRequest {
  const patientId = participantId(appointment, 'Patient');
  const practitionerId = participantId(appointment, 'Practitioner');
  const locationId = participantId(appointment, 'Location');
  const typeCode = appointment.appointmentType?.coding?.[0]?.code;
  if (!patientId || !practitionerId || !locationId || !typeCode) {
    throw new SagaFailure('invalid-state', 'the appointment lacks a patient, practitioner, location or type');
  }
  return {
    patientId,
    practitionerId,
    locationId,
    appointmentTypeCode: typeCode,
    start,
    minutes: minutes ?? appointment.minutesDuration ?? 15,
    comment: appointment.comment,
  };
}

/** The hold a saga of `holdTime` stands for. */
function heldTimeOf(saga: Saga): HeldTime {
  const state = saga.state === 'committed' ? 'confirmed' : saga.state === 'released' ? 'released' : 'held';
  return {
    holdId: saga.id,
    state,
    practitionerId: saga.practitionerId,
    locationId: saga.request.locationId,
    ...(saga.request.patientId ? { patientId: saga.request.patientId } : {}),
    appointmentTypeCode: saga.request.appointmentTypeCode,
    start: saga.start,
    end: saga.end,
    minutes: saga.request.minutes,
    ...(saga.request.comment ? { comment: saga.request.comment } : {}),
    expiresAt: new Date(saga.expiresAt),
    ...(saga.appointmentId ? { appointmentId: saga.appointmentId } : {}),
  };
}

/** What the records system is asked to write: the request in upstream ids, with the saga's marker. */
function appointmentWrite(
  upstream: SagaRequest,
  request: BookingRequest,
  marker: string,
  comment: string | undefined,
): AppointmentWrite {
  return {
    patientUpstreamId: upstream.patientUpstreamId,
    practitionerUpstreamId: upstream.practitionerUpstreamId,
    locationUpstreamId: upstream.locationUpstreamId,
    appointmentTypeCode: request.appointmentTypeCode,
    start: request.start,
    minutes: request.minutes,
    comment,
    marker,
  };
}
