/**
 * Booking's public API (DESIGN.md section 4): book, cancel, reschedule and `$hold`s, each a saga persisted step by
 * step (`src/booking/saga/`), run in per-tenant lanes, with the recovery worker finishing or undoing whatever a
 * crash left in flight. "Booked" means booked, exactly once, in the records system: a definite failure compensates
 * and releases; an unknown outcome is reconciled by marker, never re-sent blindly.
 */
import { claimOwners, type ClaimOwners } from './claim-owners.js';
import { createBookingMetrics, type BookingMetricKind, type BookingMetrics } from './booking-metrics.js';
import { BulkheadRejectedError, bulkhead, type BulkheadPolicy } from 'cockatiel';
import { randomUUID } from 'node:crypto';
import { Counter, type Registry } from 'prom-client';
import { DEFAULT_RESPONSE_DEADLINE_MS } from '../config.js';
import { appendJournal } from '../events/change-writer.js';
import type { Patient } from '@medplum/fhirtypes';
import type { WorkLeases } from '../leases/work-leases.js';
import type { Logger } from '../logger.js';
import type { Store } from '../store/database.js';
import type { BookingOutcome, BookingRequest, HeldTime, HoldOutcome, HoldRequest } from './booking-types.js';
import { identicalBooking } from './identical-booking.js';
import type { PatientRegistrationOutcome } from './patient-registration.js';
import { PatientRegistrar } from './patient-registrar.js';
import { bookingInFlight, bookingsInFlight } from './saga/bookings-in-flight.js';
import { withinDeadline } from './response-deadline.js';
import { bookSaga } from './saga/book-saga.js';
import { cancelSaga } from './saga/cancel-saga.js';
import { confirmHoldSaga, holdSaga, readHold, releaseHoldSaga } from './saga/hold-saga.js';
import { SagaRecovery } from './saga/recovery.js';
import { rescheduleSaga } from './saga/reschedule-saga.js';
import { pendingOutcome, refuse } from './saga/run-saga.js';
import { sagaOutcome } from './saga/saga-outcome.js';
import type { BookingRules, BookingTenant, SagaCheckpoint, SagaContext } from './saga/saga-context.js';

export type { BookingRules, BookingTenant, RuleVerdict, SagaCheckpoint } from './saga/saga-context.js';

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
  /**
   * How long a keyless retry of a booking waits for the identical attempt still in flight before booking on its
   * own (see `identical-booking.ts`); default 10 s.
   */
  identicalWaitMs?: number;
  /**
   * Bookings of one tenant that may wait for a lane; one more is answered `busy` at once, before any hold.
   * Default {@link DEFAULT_QUEUE_LIMIT}.
   */
  queueLimit?: number;
  /** A booking that waited longer than this for a lane gives up as `busy` before any hold. Default 10 s. */
  queueDeadlineMs?: number;
  /** Where `switchboard_booking_needs_attention_total` is registered; none in tests that do not ask. */
  metrics?: Registry;
  /** Several instances on one store (issue 11): recovery under the tenants' work leases; sagas stamped with it. */
  leases?: WorkLeases;
}

/** A cancel or reschedule: the version the caller saw (If-Match), who asks, the saga id a key is bound to. */
export interface ChangeRequestOptions {
  expectedVersion?: number;
  clientId?: string;
  sagaId?: string;
}

/** Bookings of one tenant that may wait for a lane (see {@link BookingServiceOptions.queueLimit}). */
export const DEFAULT_QUEUE_LIMIT = 64;
/** How long a booking may wait for a lane (see {@link BookingServiceOptions.queueDeadlineMs}). */
export const DEFAULT_QUEUE_DEADLINE_MS = 10_000;
/** How long a refusal of a booking never recorded is remembered for a replay of its `202`. */
const UNRECORDED_RETENTION_MS = 10 * 60_000;

export class BookingService {
  private readonly ctx: SagaContext;
  private readonly tenants: Map<string, BookingTenant>;
  private readonly recovery: SagaRecovery;
  private readonly registrations: PatientRegistrar;
  /**
   * Sagas of a tenant that talk to its records system at once. A saga makes two calls in parallel, so half the
   * connector's concurrency; more queue here instead of overflowing the connector's bulkhead and failing as
   * `ehr-unavailable` (BENCHMARKS.md, booking: 15 of 20 contended slots booked before this, 20 after).
   */
  private readonly lanes = new Map<string, BulkheadPolicy>();
  /**
   * Bookings of this process not (yet) recorded as a saga: waiting for a lane, or refused before their saga was
   * written, with that refusal, so a replay of a `202` can answer it.
   */
  private readonly unrecorded = new Map<string, BookingOutcome | undefined>();
  /** Callers waiting for a saga's row to be written before they may answer `booking-pending`. */
  private readonly recordedWaiters = new Map<string, () => void>();

  private readonly metrics: BookingMetrics | undefined;
  /** This process as its Idempotency-Key claims name it, and whether another claim's process is alive. */
  readonly owners: ClaimOwners;

  constructor(private readonly options: BookingServiceOptions) {
    this.metrics = createBookingMetrics(options.metrics);
    this.owners = claimOwners(options.leases);
    this.tenants = new Map(options.tenants.map((t) => [t.config.id, t]));
    const attention = options.metrics
      ? new Counter({
          name: 'switchboard_booking_needs_attention_total',
          help: 'Bookings handed to the practice staff as a manual-intervention Task',
          labelNames: ['tenant'],
          registers: [options.metrics],
        })
      : undefined;
    this.ctx = {
      store: options.store,
      rules: options.rules,
      logger: options.logger,
      now: options.now ?? (() => new Date()),
      holdTtlMs: options.holdTtlMs ?? 60_000,
      checkpoint: options.checkpoint ?? (() => undefined),
      active: new Set<string>(),
      recorded: (sagaId) => this.recordedWaiters.get(sagaId)?.(),
      leftToRecovery: () => this.recovery.soon(),
      needsAttention: (tenantId) => attention?.inc({ tenant: tenantId }),
      instanceId: options.leases?.instanceId,
      leases: options.leases,
    };
    this.recovery = new SagaRecovery(this.ctx, [...this.tenants.values()]);
    this.registrations = new PatientRegistrar({ store: options.store, now: this.ctx.now });
  }

  private async inLane(
    tenantId: string,
    run: (tenant: BookingTenant) => Promise<BookingOutcome>,
  ): Promise<BookingOutcome> {
    const tenant = this.tenant(tenantId);
    let lane = this.lanes.get(tenantId);
    if (!lane) {
      const concurrency = tenant.config.connector.maxConcurrency;
      lane = bulkhead(
        Math.max(1, Math.floor(concurrency / 2)),
        this.options.queueLimit ?? DEFAULT_QUEUE_LIMIT,
      );
      this.lanes.set(tenantId, lane);
    }
    const queuedAt = Date.now();
    const deadlineMs = this.options.queueDeadlineMs ?? DEFAULT_QUEUE_DEADLINE_MS;
    try {
      return await lane.execute(() =>
        // Waited too long for a lane: its caller has most likely given up; nothing was held yet.
        Date.now() - queuedAt > deadlineMs
          ? refuse(this.ctx, tenant, 'busy', 'waited too long in the booking queue', 1)
          : run(tenant),
      );
    } catch (err) {
      if (!(err instanceof BulkheadRejectedError)) throw err;
      return refuse(this.ctx, tenant, 'busy', 'the booking queue is full', 1);
    }
  }

  /** Starts the recovery worker: one pass now (finishing what a crash left), then periodically. */
  start(): void {
    this.recovery.start(this.options.recoveryIntervalMs ?? 15_000);
    // A tenant taken over from a dead instance: finish what it left now, not at the next interval.
    this.options.leases?.onAcquired(() => void this.recovery.recover());
  }

  async stop(): Promise<void> {
    await this.recovery.stop();
  }

  /** One pass of the recovery worker (see `SagaRecovery`). */
  recover(): Promise<void> {
    return this.recovery.recover();
  }

  /**
   * Books a new appointment. A booking identical to one this client made moments ago (same patient, practitioner,
   * start and type) answers that appointment, marked `duplicate`, instead of competing with it for the time;
   * one still in flight is waited for. Checked before (a retry after the first finished) and after a `slot-taken`
   * (a retry that raced the first to the claims). `signal`: aborted when the caller has gone; checked before the
   * upstream write, so a booking nobody waits for any more is released cleanly instead of written. `sagaId`: the
   * id its saga is recorded under (one an Idempotency-Key was bound to), else a fresh one.
   */
  async book(
    tenantId: string,
    request: BookingRequest,
    clientId?: string,
    signal?: AbortSignal,
    sagaId: string = randomUUID(),
  ): Promise<BookingOutcome> {
    const tenant = this.tenant(tenantId);
    const deadline = tenant.config.booking.responseDeadlineMs ?? DEFAULT_RESPONSE_DEADLINE_MS;
    // Waiting for an identical attempt still in flight must not outlast the caller's own deadline.
    const waitMs = Math.min(this.options.identicalWaitMs ?? 10_000, deadline);
    const began = performance.now();
    const earlier = await identicalBooking(this.ctx, tenant, request, clientId, waitMs);
    if (earlier) {
      this.metrics?.finished(tenantId, 'book', earlier, (performance.now() - began) / 1000);
      return earlier;
    }
    this.unrecorded.set(sagaId, undefined);
    const start = () =>
      this.inLane(tenantId, (t) => bookSaga(this.ctx, t, request, clientId, sagaId, signal))
        .then((outcome) => {
          // Refused before its saga was recorded (busy, invalid): only this process can tell a replay why.
          if (outcome.ok || outcome.bookingId === sagaId) this.unrecorded.delete(sagaId);
          else {
            this.unrecorded.set(sagaId, outcome);
            setTimeout(() => this.unrecorded.delete(sagaId), UNRECORDED_RETENTION_MS).unref();
          }
          return outcome;
        })
        .then(async (outcome) =>
          // A retry that reached the claims at the same moment as its identical first attempt lost to it.
          outcome.ok || outcome.code !== 'slot-taken'
            ? outcome
            : ((await identicalBooking(this.ctx, tenant, request, clientId, waitMs)) ?? outcome),
        );
    return this.answerWithin(tenantId, sagaId, start, 'book');
  }

  /**
   * The outcome of booking `bookingId` as it stands now: the appointment once committed, the failure once ended
   * without one, else `booking-pending` (what a replayed Idempotency-Key of a `202` answers).
   */
  async outcomeOf(tenantId: string, bookingId: string): Promise<BookingOutcome> {
    if (this.unrecorded.has(bookingId)) return this.unrecorded.get(bookingId) ?? pendingOutcome(bookingId);
    return sagaOutcome(this.ctx, tenantId, bookingId);
  }

  /** A booking answered `booking-pending` has ended: a success is journalled as `booking.confirmed`. */
  private async resolved(tenantId: string, outcome: BookingOutcome): Promise<void> {
    if (!outcome.ok) return; // Its release already journalled booking.failed or booking.rolled-back.
    await appendJournal(this.ctx.store, tenantId, [
      {
        eventType: 'booking.confirmed',
        resourceType: 'Appointment',
        resourceId: outcome.appointment.id,
        payload: { bookingId: outcome.bookingId },
      },
    ]).catch((err: unknown) =>
      this.ctx.logger.warn({ err, tenant: tenantId }, 'journalling booking.confirmed failed'),
    );
  }

  /**
   * Cancels an appointment in the records system and records the cancellation; answered `booking-pending` when
   * the saga is still running at the response deadline (reading the appointment then tells how it ended).
   * @param expectedVersion the version the caller saw (If-Match); a newer one answers `version-conflict`.
   */
  async cancel(
    tenantId: string,
    appointmentId: string,
    reason: string,
    options: ChangeRequestOptions = {},
  ): Promise<BookingOutcome> {
    const sagaId = options.sagaId ?? randomUUID();
    return this.answerWithin(
      tenantId,
      sagaId,
      () =>
        this.inLane(tenantId, (tenant) =>
          cancelSaga(this.ctx, tenant, appointmentId, reason, { ...options, sagaId }),
        ),
      'cancel',
    );
  }

  /**
   * Moves an appointment to a new time in one upstream write (the records system modifies it in place), so the
   * patient never has zero or two appointments; answered `booking-pending` at the response deadline, as a cancel.
   */
  async reschedule(
    tenantId: string,
    appointmentId: string,
    change: { start: Date; minutes?: number },
    options: ChangeRequestOptions = {},
  ): Promise<BookingOutcome> {
    const sagaId = options.sagaId ?? randomUUID();
    return this.answerWithin(
      tenantId,
      sagaId,
      () =>
        this.inLane(tenantId, (tenant) =>
          rescheduleSaga(this.ctx, tenant, appointmentId, change, { ...options, sagaId }),
        ),
      'reschedule',
    );
  }

  /**
   * `running`'s outcome, or `booking-pending` once the tenant's response deadline has passed (the saga goes on;
   * its resolution is journalled).
   */
  private answerWithin(
    tenantId: string,
    sagaId: string,
    start: () => Promise<BookingOutcome>,
    kind: BookingMetricKind,
  ): Promise<BookingOutcome> {
    const deadline = this.tenant(tenantId).config.booking.responseDeadlineMs ?? DEFAULT_RESPONSE_DEADLINE_MS;
    const recorded = new Promise<void>((resolve) => this.recordedWaiters.set(sagaId, resolve));
    const began = performance.now();
    const running = start()
      .then((outcome) => {
        this.metrics?.finished(tenantId, kind, outcome, (performance.now() - began) / 1000);
        return outcome;
      })
      .finally(() => this.recordedWaiters.delete(sagaId));
    return withinDeadline(running, deadline, sagaId, recorded, (outcome) => this.resolved(tenantId, outcome));
  }

  /**
   * Holds time for a booking confirmed later (IHE ITI-116 `$hold`, standards.md 1.3): validated like {@link book},
   * then claimed locally by a saga of kind `hold`. Nothing is sent upstream, so a hold never shows in the records
   * system; its claims are busy time to every other booking and slot search. It lasts `ttlMs`: {@link confirmHold}
   * books it, {@link releaseHold} gives it up, and the recovery worker releases it once it has expired.
   * `options.sagaId` is the hold id to use (an `Idempotency-Key` bound to it before the hold existed).
   */
  async holdTime(
    tenantId: string,
    request: HoldRequest,
    options: { ttlMs: number; clientId?: string; sagaId?: string },
  ): Promise<HoldOutcome> {
    return holdSaga(this.ctx, this.tenant(tenantId), request, options);
  }

  /** A hold made by {@link holdTime}, in whatever state it is now; undefined for any other id. */
  async readHold(tenantId: string, holdId: string): Promise<HeldTime | undefined> {
    return readHold(this.ctx, tenantId, holdId);
  }

  /**
   * A hold or a new booking by its saga id (the id of the Appointment the facade shows for it, and of the booked
   * appointment once committed), in whatever state it is now; undefined for any other id.
   */
  bookingInFlight(tenantId: string, id: string): Promise<HeldTime | undefined> {
    return bookingInFlight(this.ctx, tenantId, id);
  }

  /** The tenant's holds and new bookings still running: pending Appointments to the facade. */
  bookingsInFlight(tenantId: string): Promise<HeldTime[]> {
    return bookingsInFlight(this.ctx, tenantId);
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
    return this.inLane(tenantId, (tenant) => confirmHoldSaga(this.ctx, tenant, holdId, details, options));
  }

  /** Gives up a hold (the client cancelled it): its claims are released at once. */
  async releaseHold(tenantId: string, holdId: string): Promise<HoldOutcome> {
    return releaseHoldSaga(this.ctx, this.tenant(tenantId), holdId);
  }

  /**
   * Registers a new patient (DESIGN.md section 4: "new patients created by booking are flagged for staff review"):
   * an existing patient matching with certainty (name, birth date and phone, or an identifier) is returned instead
   * of a duplicate; otherwise the patient is created in the records system, stored tagged `NEEDS_REVIEW_TAG`, and
   * journalled as `patient.created` with `needsReview`. One registration per tenant runs at a time (a lock row
   * in the store, so across instances too), and an unknown outcome is reconciled by searching before anything is
   * re-sent: the records system gets each patient once (`patient-registrar.ts`).
   */
  registerPatient(
    tenantId: string,
    patient: Patient,
    options: { clientId?: string } = {},
  ): Promise<PatientRegistrationOutcome> {
    const tenant = this.tenant(tenantId);
    return this.registrations.register(tenantId, tenant.connector, patient, options.clientId);
  }

  private tenant(tenantId: string): BookingTenant {
    const tenant = this.tenants.get(tenantId);
    if (!tenant) throw new Error(`unknown tenant ${tenantId}`);
    return tenant;
  }
}
