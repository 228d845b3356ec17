/**
 * Booking as a saga, persisted step by step (DESIGN.md section 4): validate → hold locally → live re-check in the
 * records system → write with a correlation marker → read back and verify → commit store + journal.
 * "Booked" means booked, exactly once, in the records system: a definite failure compensates and releases; an
 * unknown outcome is reconciled by marker, never re-sent blindly; the recovery worker finishes or undoes whatever
 * a crash left in flight.
 */
import { randomUUID } from 'node:crypto';
import type { Appointment, Slot } from '@medplum/fhirtypes';
import type { TenantConfig } from '../config.js';
import type { Connector, UpstreamRecord } from '../connectors/connector.js';
import { toFhirResources } from '../connectors/resolve-fhir-ids.js';
import { formatCorrelationMarker } from '../connectors/sim/sim-fhir-context.js';
import { isUpstreamError, type UpstreamError } from '../connectors/upstream-error.js';
import type { Logger } from '../logger.js';
import { appendJournalInTransaction, type JournalEventInput } from '../store/change-journal.js';
import type { Store, StoreTransaction } from '../store/database.js';
import { isUniqueViolation } from '../store/dialect-capabilities.js';
import { commitChangesInTransaction, readResource } from '../store/resource-store.js';
import { upstreamIdFor } from '../store/upstream-ids.js';
import {
  patientMessages,
  type BookingFailure,
  type BookingFailureCode,
  type BookingOutcome,
  type BookingRequest,
  type SagaKind,
} from './booking-types.js';
import {
  insertSaga,
  readSaga,
  staleSagas,
  updateSaga,
  updateSagaInTransaction,
  type Saga,
  type SagaRequest,
} from './saga-store.js';
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
}

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
  private recoveryTimer: NodeJS.Timeout | undefined;
  private recovering: Promise<void> | undefined;

  constructor(private readonly options: BookingServiceOptions) {
    this.store = options.store;
    this.tenants = new Map(options.tenants.map((t) => [t.config.id, t]));
    this.now = options.now ?? (() => new Date());
    this.holdTtlMs = options.holdTtlMs ?? 60_000;
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
    const tenant = this.tenant(tenantId);
    const end = new Date(request.start.getTime() + request.minutes * 60_000);
    const sagaId = randomUUID();
    try {
      const verdict = await this.options.rules.check(tenant.config, request, this.now());
      if (!verdict.ok) throw new SagaFailure(verdict.code, verdict.message ?? verdict.code);
      if (!onClaimGrid(request.start, end)) {
        throw new SagaFailure('rule-violated', 'start and duration must be whole multiples of 5 minutes');
      }
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
        tenant.connector.createAppointment({
          patientUpstreamId: sagaRequest.patientUpstreamId,
          practitionerUpstreamId: sagaRequest.practitionerUpstreamId,
          locationUpstreamId: sagaRequest.locationUpstreamId,
          appointmentTypeCode: request.appointmentTypeCode,
          start: request.start,
          minutes: request.minutes,
          comment: request.comment,
          marker: saga.marker,
        }),
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
      const verdict = await this.options.rules.check(
        tenant.config,
        { ...request, ignoreAppointmentId: appointmentId },
        this.now(),
      );
      if (!verdict.ok) throw new SagaFailure(verdict.code, verdict.message ?? verdict.code);
      const end = new Date(request.start.getTime() + request.minutes * 60_000);
      if (!onClaimGrid(request.start, end)) {
        throw new SagaFailure('rule-violated', 'start and duration must be whole multiples of 5 minutes');
      }
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
        tenant.connector.rescheduleAppointment(upstreamId, {
          patientUpstreamId: sagaRequest.patientUpstreamId,
          practitionerUpstreamId: sagaRequest.practitionerUpstreamId,
          locationUpstreamId: sagaRequest.locationUpstreamId,
          appointmentTypeCode: fixedRequest.appointmentTypeCode,
          start: fixedRequest.start,
          minutes: fixedRequest.minutes,
          comment: appointment.comment,
          // The appointment keeps the marker it was booked with when it has one.
          marker:
            appointment.identifier?.find((i) => i.value?.startsWith('switchboard:'))?.value ?? saga.marker,
        }),
      );
      return await this.verifyAndCommit(tenant, saga, written);
    } catch (err) {
      return this.fail(tenant, sagaId, request, err);
    } finally {
      this.active.delete(sagaId);
    }
  }

  /**
   * The recovery worker: finishes or undoes every saga whose last step is older than the hold TTL — in practice
   * those a crashed process left behind. Safe to run on several instances: a saga's steps are idempotent.
   */
  recover(): Promise<void> {
    this.recovering ??= (async () => {
      try {
        const staleBefore = new Date(this.now().getTime() - this.holdTtlMs);
        for (const tenant of this.tenants.values()) {
          for (const saga of await staleSagas(this.store, tenant.config.id, staleBefore)) {
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
        // Nothing was sent upstream: release the time.
        await this.release(saga.tenantId, saga.id, 'rolled back after a restart', 'booking.rolled-back');
        log.info('released an abandoned hold');
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

  private async upstreamRequest(tenantId: string, request: BookingRequest): Promise<SagaRequest> {
    const lookup = async (type: 'Patient' | 'Practitioner' | 'Location', id: string): Promise<string> => {
      const upstream = await upstreamIdFor(this.store, tenantId, type, id);
      if (upstream === undefined) throw new SagaFailure('not-found', `${type}/${id} is not known`);
      return upstream;
    };
    return {
      patientId: request.patientId,
      locationId: request.locationId,
      appointmentTypeCode: request.appointmentTypeCode,
      minutes: request.minutes,
      comment: request.comment,
      patientUpstreamId: await lookup('Patient', request.patientId),
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
        await insertSaga(trx, { ...saga, tenantId }, now, this.holdTtlMs);
        await claimTime(trx, tenantId, saga.practitionerId, saga.start, saga.end, saga.id);
      });
    } catch (err) {
      if (isUniqueViolation(this.store.capabilities, err)) {
        throw new SagaFailure('slot-taken', 'another booking holds that time');
      }
      throw err;
    }
    return this.sagaOf(tenantId, saga.id);
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
      const record = await send();
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
    return this.commit(tenant, saga, written, event);
  }

  /** Step 6: store + journal + saga state in one transaction. */
  private async commit(
    tenant: BookingTenant,
    saga: Saga,
    record: UpstreamRecord<Appointment>,
    eventType: string,
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

  private async release(
    tenantId: string,
    sagaId: string,
    why: string,
    eventType: 'booking.rolled-back' | 'booking.failed',
    code?: BookingFailureCode,
  ): Promise<void> {
    const now = this.now();
    await this.store.write(async (trx) => {
      const saga = await trx
        .selectFrom('booking_sagas')
        .select(['state', 'kind', 'practitioner_id', 'start_at', 'end_at', 'appointment_id'])
        .where('tenant_id', '=', tenantId)
        .where('id', '=', sagaId)
        .executeTakeFirst();
      if (!saga || saga.state === 'released' || saga.state === 'committed') return;
      await updateSagaInTransaction(
        trx,
        tenantId,
        sagaId,
        { state: 'released', errorCode: code, errorDetail: why },
        now,
      );
      await releaseClaims(trx, tenantId, sagaId);
      await appendJournalInTransaction(trx, tenantId, [failureEvent(eventType, sagaId, saga, code)], now);
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
  eventType: string,
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
