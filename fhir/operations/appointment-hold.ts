/**
 * `Appointment/$hold` — IHE ITI-116 Hold Appointment (canonical
 * https://profiles.ihe.net/ITI/Scheduling/OperationDefinition/appointment-hold; standards.md 1.1, 1.3, 1.4). POST
 * Parameters with `appointment-reference` (IHE; Argonaut's `appt-id` too) naming a proposal `$find` returned, or
 * `appointment-resource` (Argonaut's `appt-resource`) — a proposed Appointment built by the client (slot or
 * start/end, practitioner, type; the patient may be named now or at `$book`).
 *
 * The hold claims the practitioner's time locally through the booking saga (`BookingService.holdTime`): nothing is
 * written to the records system until `$book`, and slot searches stop offering the time. It lasts the configured
 * hold length (default 5 minutes): the answer is a searchset Bundle with the one held Appointment
 * (`status=pending`, participants `tentative`, the expiry in the `hold-expires` extension) and an `Expires` header.
 * `$book` with the hold's id books it; `PATCH` to `cancelled` releases it; once expired, the saga's recovery
 * worker releases its claims. A proposal that is no longer free is refused like a booking: 409 `slot-taken` with
 * alternatives (booking-outcome.ts); one that names nothing known, 422 `not-found` (severity `fatal`, as IHE asks).
 * `Idempotency-Key` honoured.
 */
import type { Appointment, Bundle, ParametersParameter } from '@medplum/fhirtypes';
import { randomUUID } from 'node:crypto';
import type { RoutedFhirRequest } from '../fhir-request.js';
import type { HeldTime, HoldRequest } from '../../src/booking/booking-types.js';
import type { FhirRequestContext } from '../access.js';
import type { AuditedResult, InteractionResult } from '../interactions/interaction-deps.js';
import { FhirError } from '../operation-outcome.js';
import { resourceUrl } from '../search/bundle-builder.js';
import { parseReference, readAppointmentInput } from '../booking/appointment-input.js';
import type { BookingHandlerDeps } from '../booking/booking-handler-deps.js';
import { bookingFailureError } from '../booking/booking-outcome.js';
import { heldAppointment } from '../booking/held-appointment.js';
import { withIdempotency } from '../booking/idempotency.js';
import { withIheFailures } from '../booking/ihe-failure.js';
import { auditedOperation } from '../booking/operation-access.js';
import { single, textValue } from '../booking/parameters.js';
import { parseProposalId } from '../booking/proposal-id.js';
import { loadSchedule, typesOf } from '../../src/availability/schedules.js';
import {
  inParameter,
  outParameter,
  readOperationParameters,
  type OperationParameterSpec,
  type OperationSpec,
} from './operation-definition.js';

/** The inputs naming the appointment of `$hold` and `$book`, with their Argonaut names (see appointmentParameters). */
export function appointmentInputs(reference: string, resource: string): OperationParameterSpec[] {
  return [
    inParameter('appointment-reference', '0..1', 'Reference', reference),
    inParameter('appt-id', '0..1', 'Reference', 'Argonaut name of appointment-reference.'),
    inParameter('appointment-resource', '0..1', 'Appointment', resource),
    inParameter('appt-resource', '0..1', 'Appointment', 'Argonaut name of appointment-resource.'),
  ];
}

/** The OperationDefinition of `Appointment/$hold` (IHE ITI-116, as Switchboard serves it). */
export const HOLD_DEFINITION: OperationSpec = {
  id: 'appointment-hold',
  url: 'https://profiles.ihe.net/ITI/Scheduling/OperationDefinition/appointment-hold',
  name: 'AppointmentHold',
  title: 'Hold an appointment (IHE ITI-116)',
  code: 'hold',
  resource: ['Appointment'],
  system: false,
  type: true,
  instance: false,
  affectsState: true,
  description:
    'Holds a $find proposal or a proposed appointment for a few minutes (Expires header); $book books it, PATCH status=cancelled releases it. Exactly one of appointment-reference and appointment-resource. Idempotency-Key honoured.',
  parameter: [
    ...appointmentInputs(
      'A proposal from $find: Appointment/[proposal id].',
      'A proposed Appointment to hold.',
    ),
    outParameter(
      'return',
      '1..1',
      'Bundle',
      'A Bundle with the held Appointment (status pending), IHE ihe-sched-avail-bundle; on failure, only an OperationOutcome.',
    ),
  ],
};

export const HOLD_OPERATION = {
  name: HOLD_DEFINITION.code,
  definition: HOLD_DEFINITION.url,
  documentation:
    'IHE ITI-116: holds a proposal from $find (appointment-reference) or a proposed appointment-resource for a few minutes (Expires header); $book books it, PATCH status=cancelled releases it.',
} as const;

export function holdAppointment(
  ctx: FhirRequestContext,
  deps: BookingHandlerDeps,
  request: RoutedFhirRequest,
): Promise<InteractionResult> {
  return auditedOperation(ctx, deps.interaction, 'Appointment', '$hold', 'c', () =>
    withIheFailures(() =>
      withIdempotency(
        ctx,
        request,
        deps.now(),
        async (bound) => {
          const parameters = readOperationParameters(HOLD_DEFINITION, request.body);
          const base = deps.interaction.baseUrl(ctx);
          const { reference, resource } = appointmentParameters(parameters);
          requireOneAppointment(reference, resource);
          const wanted = reference
            ? await proposalRequest(ctx, textValue(reference), base)
            : await readAppointmentInput(ctx, resource, {
                path: 'Parameters.parameter.resource',
                statuses: ['proposed', 'pending'],
                id: 'ignore',
                patient: 'optional',
                base,
                now: deps.now(),
              });
          const outcome = await deps.booking().holdTime(ctx.tenant.id, wanted, {
            ttlMs: deps.holdTtlMs,
            clientId: ctx.client?.id,
            sagaId: bound.bookingId,
          });
          if (!outcome.ok) throw bookingFailureError(outcome);
          return holdAnswer(ctx, deps, outcome.hold);
        },
        {
          owners: deps.booking().owners,
          // The process that made this hold died before answering: the hold it made is the answer.
          settle: async (holdId) => {
            const hold = await deps.booking().readHold(ctx.tenant.id, holdId);
            if (!hold) throw FhirError.of(404, 'not-found', `no hold ${holdId}`);
            return holdAnswer(ctx, deps, hold);
          },
        },
      ),
    ),
  );
}

/** `$hold`'s answer: the held Appointment in a Bundle, and when it lapses. */
async function holdAnswer(
  ctx: FhirRequestContext,
  deps: BookingHandlerDeps,
  hold: HeldTime,
): Promise<AuditedResult> {
  const held = await heldAppointment(ctx, hold);
  return {
    status: 200,
    body: oneAppointmentBundle(deps.interaction.baseUrl(ctx), hold.holdId, held, deps.now()),
    headers: { Expires: hold.expiresAt.toUTCString() },
    resourceIds: [hold.holdId],
  };
}

/** The `appointment-reference` (Argonaut `appt-id`) and `appointment-resource` (`appt-resource`) parameters. */
export function appointmentParameters(parameters: readonly ParametersParameter[]): {
  reference: ParametersParameter | undefined;
  resource: Appointment | undefined;
} {
  return {
    reference: single(parameters, 'appointment-reference', 'appt-id'),
    // Its type was checked against the OperationDefinition by readOperationParameters.
    resource: single(parameters, 'appointment-resource', 'appt-resource')?.resource as
      Appointment | undefined,
  };
}

/** 400 unless exactly one of `appointment-reference` and `appointment-resource` is given. */
export function requireOneAppointment(
  reference: ParametersParameter | undefined,
  resource: Appointment | undefined,
): void {
  if ((reference === undefined) === (resource === undefined)) {
    throw FhirError.of(
      400,
      'required',
      'give exactly one of appointment-reference and appointment-resource',
      {
        expression: 'appointment-reference',
      },
    );
  }
}

/** The answer of `$hold` and `$book`: a searchset Bundle with the one Appointment, as `id`. */
export function oneAppointmentBundle(base: string, id: string, appointment: Appointment, now: Date): Bundle {
  return {
    resourceType: 'Bundle',
    id: randomUUID(),
    meta: { lastUpdated: now.toISOString() },
    type: 'searchset',
    total: 1,
    entry: [
      { fullUrl: resourceUrl(base, 'Appointment', id), resource: appointment, search: { mode: 'match' } },
    ],
  };
}

/** The hold request a `$find` proposal stands for (no patient yet). */
export async function proposalRequest(
  ctx: FhirRequestContext,
  reference: string | undefined,
  base: string,
): Promise<HoldRequest> {
  const ref = parseReference(reference, base);
  const proposal = ref?.type === 'Appointment' ? parseProposalId(ref.id) : undefined;
  const schedule = proposal ? await loadSchedule(ctx.store, ctx.tenant.id, proposal.scheduleId) : undefined;
  const type = proposal && schedule ? typesOf(schedule.schedule)[proposal.typeIndex] : undefined;
  if (!proposal || !schedule || !type || type.minutes !== proposal.minutes) {
    throw FhirError.of(422, 'not-found', `${reference ?? 'that'} is not an appointment proposed by $find`, {
      expression: 'appointment-reference',
      severity: 'fatal',
      detailCode: 'not-found',
    });
  }
  return {
    practitionerId: schedule.practitionerId,
    locationId: schedule.locationId,
    appointmentTypeCode: type.code,
    start: proposal.start,
    minutes: proposal.minutes,
  };
}
