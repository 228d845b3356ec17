/**
 * `Appointment/$book` — IHE ITI-117 Book Appointment (canonical
 * https://profiles.ihe.net/ITI/Scheduling/OperationDefinition/appointment-book; standards.md 1.1, 1.4). POST
 * Parameters:
 * - `appointment-reference` (Argonaut `appt-id`): a hold from `$hold` → booked; a proposal from `$find` → booked
 *   directly (the patient from `patient-resource`/`patient-id`); an appointment already booked → answered as is;
 * - `appointment-resource` (Argonaut `appt-resource`): without an id (or with a proposal's id) and status
 *   `pending`/`booked`/`proposed` → a new booking, exactly as `POST Appointment`; with a hold's id → the hold booked;
 *   with a booked appointment's id and status `booked` → modified (IHE "modify": a new `start`/`end` reschedules it in
 *   one upstream write; `meta.versionId`, when sent, must be current, else 412); with status `cancelled` → cancelled
 *   (a hold: released);
 * - `patient-resource` (IHE, Patient): the patient to book for — an existing one by id, else registered like
 *   `POST Patient` (matched, or created flagged for review); Argonaut's `patient-id` names an existing one;
 * - `comment`.
 * Success: a searchset Bundle with the one Appointment (`booked`, or `cancelled` for a cancel). Failure: the
 * booking failure's OperationOutcome with its HTTP status (booking-outcome.ts). `Idempotency-Key` honoured.
 */
import { registrationPendingError } from '../booking/registration-pending.js';
import type { Appointment, ParametersParameter, Patient } from '@medplum/fhirtypes';
import type { RoutedFhirRequest } from '../fhir-request.js';
import { readResource } from '../../src/store/resource-store.js';
import type { FhirRequestContext } from '../access.js';
import type { AuditedResult, InteractionResult } from '../interactions/interaction-deps.js';
import { FhirError } from '../operation-outcome.js';
import {
  cancelAppointment,
  rescheduleAppointment,
  type ChangeOptions,
} from '../booking/appointment-cancel.js';
import { parseDateTime, parseReference, readAppointmentInput } from '../booking/appointment-input.js';
import type { BookingHandlerDeps } from '../booking/booking-handler-deps.js';
import { bookingFailureError } from '../booking/booking-outcome.js';
import { withIdempotency, type IdempotentRun } from '../booking/idempotency.js';
import { withIheFailures } from '../booking/ihe-failure.js';
import { auditedOperation } from '../booking/operation-access.js';
import { single, textValue } from '../booking/parameters.js';
import { validPatient } from '../booking/patient-create.js';
import { parseProposalId } from '../booking/proposal-id.js';
import {
  appointmentInputs,
  appointmentParameters,
  oneAppointmentBundle,
  proposalRequest,
  requireOneAppointment,
} from './appointment-hold.js';
import {
  inParameter,
  outParameter,
  readOperationParameters,
  type OperationSpec,
} from './operation-definition.js';

/** The OperationDefinition of `Appointment/$book` (IHE ITI-117, as Switchboard serves it). */
export const BOOK_DEFINITION: OperationSpec = {
  id: 'appointment-book',
  url: 'https://profiles.ihe.net/ITI/Scheduling/OperationDefinition/appointment-book',
  name: 'AppointmentBook',
  title: 'Book an appointment (IHE ITI-117)',
  code: 'book',
  resource: ['Appointment'],
  system: false,
  type: true,
  instance: false,
  affectsState: true,
  description:
    'Books a hold, a $find proposal or a new appointment-resource; modifies (start/end) or cancels an existing appointment given as appointment-resource. Exactly one of appointment-reference and appointment-resource. Idempotency-Key honoured.',
  parameter: [
    ...appointmentInputs(
      'A hold or a $find proposal: Appointment/[id].',
      'The Appointment to book, modify or cancel.',
    ),
    inParameter('patient-id', '0..1', 'Reference', 'The patient: Patient/[id].'),
    inParameter('patient-resource', '0..1', 'Patient', 'A new patient to register and book for.'),
    inParameter('comment', '0..1', 'string', 'A note kept with the appointment upstream.'),
    inParameter(
      'cancelled-appt-id',
      '0..1',
      'Reference',
      'Not supported (422): reschedule with $book of the appointment.',
    ),
    outParameter(
      'return',
      '1..1',
      'Bundle',
      'A Bundle with the booked Appointment, IHE ihe-sched-avail-bundle; on failure, only an OperationOutcome.',
    ),
  ],
};

export const BOOK_OPERATION = {
  name: BOOK_DEFINITION.code,
  definition: BOOK_DEFINITION.url,
  documentation:
    'IHE ITI-117: books a hold, a $find proposal or a new appointment-resource; modifies (start/end) or cancels an existing appointment. Idempotency-Key honoured.',
} as const;

const RESOURCE_PATH = 'Parameters.parameter.resource';

export function bookAppointment(
  ctx: FhirRequestContext,
  deps: BookingHandlerDeps,
  request: RoutedFhirRequest,
): Promise<InteractionResult> {
  return auditedOperation(ctx, deps.interaction, 'Appointment', '$book', 'cu', () =>
    withIheFailures(() =>
      withIdempotency(
        ctx,
        request,
        deps.now(),
        async (bound) => {
          const parameters = readOperationParameters(BOOK_DEFINITION, request.body);
          const base = deps.interaction.baseUrl(ctx);
          const { reference, resource } = appointmentParameters(parameters);
          const comment = textValue(single(parameters, 'comment'));
          if (single(parameters, 'cancelled-appt-id')) {
            throw FhirError.of(
              422,
              'not-supported',
              'cancelled-appt-id is not supported: reschedule with $book of the appointment (its id, status booked, the new start and end)',
              { expression: 'cancelled-appt-id' },
            );
          }
          requireOneAppointment(reference, resource);
          const patientParameter = await patientOf(ctx, deps, parameters);
          const appointment = resource
            ? await bookResource(ctx, deps, bound, resource, patientParameter, comment)
            : await bookReference(ctx, deps, bound, textValue(reference), patientParameter, comment);
          return bookedBundle(base, appointment, deps.now());
        },
        {
          owners: deps.booking().owners,
          settle: async (bookingId) => {
            const outcome = await deps.booking().outcomeOf(ctx.tenant.id, bookingId);
            if (!outcome.ok) throw bookingFailureError(outcome);
            return bookedBundle(deps.interaction.baseUrl(ctx), outcome.appointment, deps.now());
          },
        },
      ),
    ),
  );
}

/** `$book`'s answer: a Bundle with the appointment. */
function bookedBundle(base: string, appointment: Appointment, now: Date): AuditedResult {
  const bundle = oneAppointmentBundle(base, appointment.id as string, appointment, now);
  return { status: 200, body: bundle, resourceIds: [appointment.id as string] };
}

async function bookReference(
  ctx: FhirRequestContext,
  deps: BookingHandlerDeps,
  bound: IdempotentRun,
  reference: string | undefined,
  patientId: string | undefined,
  comment: string | undefined,
): Promise<Appointment> {
  const base = deps.interaction.baseUrl(ctx);
  const ref = parseReference(reference, base);
  if (!ref || ref.type !== 'Appointment') {
    throw FhirError.of(400, 'invalid', 'appointment-reference must reference an Appointment', {
      expression: 'appointment-reference',
    });
  }
  const booking = deps.booking();
  if (await booking.readHold(ctx.tenant.id, ref.id)) {
    return confirm(ctx, deps, bound, ref.id, patientId, comment);
  }
  if (parseProposalId(ref.id)) {
    const request = await proposalRequest(ctx, reference, base);
    if (!patientId) {
      throw FhirError.of(
        400,
        'required',
        'booking a proposal needs the patient: patient-resource or patient-id',
        {
          expression: 'patient-resource',
        },
      );
    }
    const outcome = await booking.book(
      ctx.tenant.id,
      { ...request, patientId, comment },
      ctx.client?.id,
      undefined,
      bound.bookingId,
    );
    if (!outcome.ok) throw bookingFailureError(outcome);
    return outcome.appointment;
  }
  const stored = await readResource(ctx.store, ctx.tenant.id, 'Appointment', ref.id);
  if (!stored || stored.deleted) {
    throw FhirError.of(422, 'not-found', `Appointment/${ref.id} is not known`, {
      expression: 'appointment-reference',
      severity: 'fatal',
      detailCode: 'not-found',
    });
  }
  return stored.resource;
}

async function bookResource(
  ctx: FhirRequestContext,
  deps: BookingHandlerDeps,
  bound: IdempotentRun,
  resource: Appointment,
  patientParameter: string | undefined,
  comment: string | undefined,
): Promise<Appointment> {
  const base = deps.interaction.baseUrl(ctx);
  const booking = deps.booking();
  const id = resource.id;
  const expectedVersion =
    resource.meta?.versionId === undefined ? undefined : Number(resource.meta.versionId);
  if (resource.status === 'cancelled') {
    if (id === undefined) {
      throw FhirError.of(400, 'required', 'cancelling needs the appointment’s id', {
        expression: `${RESOURCE_PATH}.id`,
      });
    }
    const reason = resource.cancelationReason?.text ?? comment;
    return (await cancelAppointment(ctx, deps, id, reason, { expectedVersion, sagaId: bound.bookingId }))
      .appointment;
  }
  if (id !== undefined && (await booking.readHold(ctx.tenant.id, id))) {
    const fromResource = resource.participant
      ?.map((p) => parseReference(p.actor?.reference, base))
      .find((r) => r?.type === 'Patient')?.id;
    return confirm(ctx, deps, bound, id, patientParameter ?? fromResource, comment ?? resource.comment);
  }
  const stored =
    id === undefined ? undefined : await readResource(ctx.store, ctx.tenant.id, 'Appointment', id);
  if (id !== undefined && stored && !stored.deleted) {
    return modify(ctx, deps, stored.resource, resource, { expectedVersion, sagaId: bound.bookingId });
  }
  if (id !== undefined && !parseProposalId(id)) {
    throw FhirError.of(422, 'not-found', `Appointment/${id} is not known`, {
      expression: `${RESOURCE_PATH}.id`,
      detailCode: 'not-found',
    });
  }
  const input = await readAppointmentInput(ctx, resource, {
    path: RESOURCE_PATH,
    statuses: ['pending', 'booked', 'proposed'],
    id: 'ignore',
    patient: patientParameter ? 'optional' : 'required',
    base,
    now: deps.now(),
  });
  const outcome = await booking.book(
    ctx.tenant.id,
    {
      ...input,
      patientId: (patientParameter ?? input.patientId) as string,
      comment: comment ?? input.comment,
    },
    ctx.client?.id,
    undefined,
    bound.bookingId,
  );
  if (!outcome.ok) throw bookingFailureError(outcome);
  return outcome.appointment;
}

async function confirm(
  ctx: FhirRequestContext,
  deps: BookingHandlerDeps,
  bound: IdempotentRun,
  holdId: string,
  patientId: string | undefined,
  comment: string | undefined,
): Promise<Appointment> {
  // The hold's saga books it: a replay of this key asks that saga.
  await bound.bindTo(holdId);
  const outcome = await deps
    .booking()
    .confirmHold(
      ctx.tenant.id,
      holdId,
      { ...(patientId ? { patientId } : {}), ...(comment ? { comment } : {}) },
      { clientId: ctx.client?.id },
    );
  if (!outcome.ok) throw bookingFailureError(outcome);
  return outcome.appointment;
}

/** IHE modify: the same appointment at a new time; nothing else changes this way. */
async function modify(
  ctx: FhirRequestContext,
  deps: BookingHandlerDeps,
  current: Appointment,
  wanted: Appointment,
  options: ChangeOptions,
): Promise<Appointment> {
  if (wanted.status !== undefined && wanted.status !== 'booked') {
    throw FhirError.of(
      400,
      'value',
      'modifying an appointment takes status booked (or cancelled to cancel it)',
      {
        expression: `${RESOURCE_PATH}.status`,
      },
    );
  }
  const start = parseDateTime(wanted.start);
  const end = parseDateTime(wanted.end);
  if (!start || !end || !(end > start)) {
    throw FhirError.of(
      400,
      'required',
      'modifying an appointment needs its new start and end (with a zone)',
      {
        expression: `${RESOURCE_PATH}.start`,
      },
    );
  }
  const minutes = (end.getTime() - start.getTime()) / 60_000;
  const same =
    Date.parse(current.start ?? '') === start.getTime() && Date.parse(current.end ?? '') === end.getTime();
  if (same) return current;
  const { appointment } = await rescheduleAppointment(
    ctx,
    deps,
    current.id as string,
    { start, minutes },
    options,
  );
  return appointment;
}

/** The patient `patient-resource` (registered if new) or `patient-id` names, if any. */
async function patientOf(
  ctx: FhirRequestContext,
  deps: BookingHandlerDeps,
  parameters: readonly ParametersParameter[],
): Promise<string | undefined> {
  const base = deps.interaction.baseUrl(ctx);
  const byId = single(parameters, 'patient-id');
  if (byId) {
    const value = textValue(byId) ?? '';
    const id = parseReference(value, base)?.id ?? (/^[A-Za-z0-9\-.]{1,64}$/.test(value) ? value : undefined);
    if (!id)
      throw FhirError.of(400, 'invalid', 'patient-id must reference a Patient', { expression: 'patient-id' });
    return id;
  }
  const resource = single(parameters, 'patient-resource');
  if (!resource) return undefined;
  const patient = resource.resource as Patient; // a Patient: checked by readOperationParameters
  if (patient.id !== undefined) {
    const stored = await readResource(ctx.store, ctx.tenant.id, 'Patient', patient.id);
    if (!stored || stored.deleted) {
      throw FhirError.of(422, 'not-found', `Patient/${patient.id} is not known`, {
        expression: 'patient-resource',
      });
    }
    return patient.id;
  }
  deps.interaction.access.authorize(ctx, 'Patient', 'create');
  const registered = await deps
    .booking()
    .registerPatient(ctx.tenant.id, validPatient(patient, deps.now(), 'Parameters.parameter.resource'), {
      clientId: ctx.client?.id,
    });
  if (!registered.ok && 'pending' in registered) throw registrationPendingError(registered);
  if (!registered.ok) throw bookingFailureError(registered);
  return registered.patient.id;
}
