/**
 * `PATCH [base]/Appointment/{id}` with JSON Patch (https://hl7.org/fhir/R4/http.html#patch): how Argonaut and IHE
 * clients cancel an appointment or release a hold (standards.md 1.1):
 * `[{"op":"replace","path":"/status","value":"cancelled"}]`, optionally with an `add`/`replace` of
 * `/cancelationReason` (a CodeableConcept; its text, else its first coding's display or code, is the reason kept
 * upstream). Any other patch is a 422 naming the element: the records system takes no other change this way
 * (reschedule with PUT or `$book`). Content type `application/json-patch+json` (else 415); `If-Match` optional,
 * a stale one 412.
 */
import type { CodeableConcept } from '@medplum/fhirtypes';
import { bodyIs, type RoutedFhirRequest } from '../fhir-request.js';
import type { FhirRequestContext } from '../access.js';
import { audited, type InteractionResult } from '../interactions/interaction-deps.js';
import { FhirError } from '../operation-outcome.js';
import { cancelAppointment } from './appointment-cancel.js';
import type { BookingHandlerDeps } from './booking-handler-deps.js';
import { ifMatchVersion } from './version-precondition.js';

export const JSON_PATCH = 'application/json-patch+json';

export function patchAppointment(
  ctx: FhirRequestContext,
  deps: BookingHandlerDeps,
  request: RoutedFhirRequest,
): Promise<InteractionResult> {
  const id = String(request.params.id);
  return audited(ctx, deps.interaction, 'patch', 'Appointment', async () => {
    if (!bodyIs(request, JSON_PATCH)) {
      throw FhirError.of(415, 'not-supported', `PATCH takes JSON Patch (${JSON_PATCH})`);
    }
    const expectedVersion = ifMatchVersion(request.headers['if-match']);
    const reason = cancellationOf(request.body);
    const { appointment, headers } = await cancelAppointment(ctx, deps, id, reason, {
      expectedVersion,
      failure: { target: 'url' },
    });
    return { status: 200, body: appointment, headers, resourceIds: [id] };
  });
}

/** The cancel reason a supported patch gives (undefined: none given); a FhirError for any other patch. */
function cancellationOf(body: unknown): string | undefined {
  if (!Array.isArray(body) || body.length === 0) {
    throw FhirError.of(400, 'invalid', 'a JSON Patch is a non-empty array of operations');
  }
  let cancels = false;
  let reason: string | undefined;
  for (const raw of body as unknown[]) {
    const op = (raw ?? {}) as { op?: unknown; path?: unknown; value?: unknown };
    const element = typeof op.path === 'string' ? `Appointment${op.path.replace(/\//g, '.')}` : 'Appointment';
    if (op.path === '/status' && (op.op === 'replace' || op.op === 'add')) {
      if (op.value !== 'cancelled') {
        throw FhirError.of(422, 'business-rule', 'status can only be changed to cancelled', {
          expression: 'Appointment.status',
          detailCode: 'patch-not-supported',
        });
      }
      cancels = true;
    } else if (op.path === '/cancelationReason' && (op.op === 'replace' || op.op === 'add')) {
      reason = reasonText(op.value as CodeableConcept | undefined);
    } else {
      throw FhirError.of(
        422,
        'not-supported',
        'only cancelling is supported by PATCH (status → cancelled, with an optional cancelationReason); reschedule with PUT or $book',
        { expression: element, detailCode: 'patch-not-supported' },
      );
    }
  }
  if (!cancels) {
    throw FhirError.of(422, 'not-supported', 'a PATCH must set status to cancelled', {
      expression: 'Appointment.status',
      detailCode: 'patch-not-supported',
    });
  }
  return reason;
}

function reasonText(concept: CodeableConcept | undefined): string | undefined {
  const text = concept?.text ?? concept?.coding?.[0]?.display ?? concept?.coding?.[0]?.code;
  return typeof text === 'string' && text.trim() !== '' ? text.trim().slice(0, 500) : undefined;
}
