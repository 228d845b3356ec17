/**
 * `POST [base]/Appointment` (https://hl7.org/fhir/R4/http.html#create): books through the saga (DESIGN.md
 * section 4). `Idempotency-Key` and `If-None-Exist` honoured; `201 Created` with `Location`
 * (`…/Appointment/{id}/_history/{v}`), `ETag` and the booked Appointment; a refusal answers the failure's
 * OperationOutcome (booking-outcome.ts) with alternatives. A repeat of a booking this client just made (an agent's
 * keyless retry) answers `200` with that appointment, like a conditional create's match (existing-answer.ts).
 */
import { prefersOperationOutcome, type RoutedFhirRequest } from '../fhir-request.js';
import type { FhirRequestContext } from '../access.js';
import { audited, type AuditedResult, type InteractionResult } from '../interactions/interaction-deps.js';
import { appointmentDefinition } from '../resources/appointment.js';
import { readAppointmentInput } from './appointment-input.js';
import type { BookingHandlerDeps } from './booking-handler-deps.js';
import { bookingFailureError, writtenHeaders } from './booking-outcome.js';
import type { BookingOutcome } from '../../src/booking/booking-types.js';
import { resourceUrl } from '../search/bundle-builder.js';
import { conditionalMatch } from './conditional-create.js';
import { existingAnswer } from './existing-answer.js';
import { withIdempotency } from './idempotency.js';

/** Statuses a new appointment may be sent with: the result is `booked` either way. */
export const CREATE_STATUSES = ['booked', 'proposed'] as const;

export function createAppointment(
  ctx: FhirRequestContext,
  deps: BookingHandlerDeps,
  request: RoutedFhirRequest,
): Promise<InteractionResult> {
  return audited(ctx, deps.interaction, 'create', 'Appointment', () =>
    withIdempotency(
      ctx,
      request,
      deps.now(),
      async ({ bookingId }) => {
        const existing = await conditionalMatch(
          ctx,
          deps.interaction,
          appointmentDefinition,
          request.headers['if-none-exist'],
        );
        if (existing) return existingAnswer(existing);
        const base = deps.interaction.baseUrl(ctx);
        const input = await readAppointmentInput(ctx, request.body, {
          statuses: CREATE_STATUSES,
          id: 'forbid',
          patient: 'required',
          base,
          now: deps.now(),
        });
        const outcome = await deps
          .booking()
          .book(
            ctx.tenant.id,
            { ...input, patientId: input.patientId as string },
            ctx.client?.id,
            request.signal,
            bookingId,
          );
        if (outcome.ok && outcome.duplicate) {
          const id = outcome.appointment.id as string;
          return existingAnswer(
            { ...outcome.appointment, id },
            {
              base,
              notice: {
                code: 'duplicate-request',
                text: `The same booking was already made by this client: Appointment/${id}`,
              },
              outcomeBody: prefersOperationOutcome(request),
            },
          );
        }
        return bookedAnswer(base, outcome);
      },
      {
        owners: deps.booking().owners,
        settle: async (bookingId) =>
          bookedAnswer(
            deps.interaction.baseUrl(ctx),
            await deps.booking().outcomeOf(ctx.tenant.id, bookingId),
          ),
      },
    ),
  );
}

/** `201` with the booked appointment, or the failure (`202` while the booking is pending). */
function bookedAnswer(base: string, outcome: BookingOutcome): AuditedResult {
  // Pending: the new booking's Appointment has its saga's id, readable now (pending) and once booked.
  if (!outcome.ok) {
    const pending = outcome.bookingId ? resourceUrl(base, 'Appointment', outcome.bookingId) : undefined;
    throw bookingFailureError(outcome, { location: pending, base });
  }
  const id = outcome.appointment.id as string;
  return {
    status: 201,
    body: outcome.appointment,
    headers: writtenHeaders(base, outcome.appointment, outcome.versionId, { location: true }),
    resourceIds: [id],
  };
}
