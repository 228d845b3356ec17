/**
 * `PUT [base]/Appointment/{id}` (https://hl7.org/fhir/R4/http.html#update), version-aware only: the appointment
 * lives in the records system, which takes two changes from outside — a cancellation and a move — so the body must
 * be the appointment as read with exactly one of those changes:
 * - `status` → `cancelled` (and optionally `cancelationReason`): cancelled upstream;
 * - `start`/`end` (and `minutesDuration` to match): rescheduled in one upstream write, never zero or two
 *   appointments;
 * - nothing changed: 200 with the current version.
 * Any other difference is a 422 whose `expression` names the first element that differs.
 * `If-Match` is required (428 without it, RFC 6585: a blind overwrite of someone's booking is never wanted); a
 * stale one is a 412. `meta` and `text` are ignored. No update-as-create (405 for an unknown id is not used:
 * 404).
 */
import { validateWrite } from '../write-validation.js';
import type { Appointment, Resource } from '@medplum/fhirtypes';
import type { RoutedFhirRequest } from '../fhir-request.js';
import { readResource } from '../../src/store/resource-store.js';
import { canonicalJson } from '../../src/store/content-hash.js';
import type { FhirRequestContext } from '../access.js';
import { audited, type InteractionResult } from '../interactions/interaction-deps.js';
import { gone } from '../interactions/read.js';
import { versionHeaders } from '../interactions/resource-headers.js';
import { FhirError, notFound } from '../operation-outcome.js';
import { parseDateTime } from './appointment-input.js';
import { cancelAppointment, rescheduleAppointment } from './appointment-cancel.js';
import type { BookingHandlerDeps } from './booking-handler-deps.js';
import { ifMatchVersion } from './version-precondition.js';

const IGNORED = new Set(['meta', 'text']);
const TIME_ELEMENTS = new Set(['start', 'end', 'minutesDuration']);
const CANCEL_ELEMENTS = new Set(['status', 'cancelationReason']);

export function updateAppointment(
  ctx: FhirRequestContext,
  deps: BookingHandlerDeps,
  request: RoutedFhirRequest,
): Promise<InteractionResult> {
  const id = String(request.params.id);
  return audited(ctx, deps.interaction, 'update', 'Appointment', async () => {
    const expectedVersion = ifMatchVersion(request.headers['if-match']);
    if (expectedVersion === undefined) {
      throw FhirError.of(
        428,
        'required',
        'PUT Appointment needs If-Match with the version last read (its ETag)',
        {
          detailCode: 'if-match-required',
        },
      );
    }
    const body = request.body as Appointment | undefined;
    if (typeof body !== 'object' || body === null || body.resourceType !== 'Appointment') {
      throw FhirError.of(400, 'invalid', 'the body must be an Appointment resource', {
        expression: 'Appointment',
      });
    }
    validateWrite(body);
    if (body.id !== id) {
      throw FhirError.of(400, 'invalid', `the body's id must be ${id}, as in the URL`, {
        expression: 'Appointment.id',
      });
    }
    const stored = await readResource(ctx.store, ctx.tenant.id, 'Appointment', id);
    if (!stored) throw notFound(`Appointment/${id}`);
    if (stored.deleted) throw gone('Appointment', id);
    if (stored.versionId !== expectedVersion) {
      throw FhirError.of(
        412,
        'conflict',
        `Appointment/${id} is at version ${stored.versionId}, not ${expectedVersion}`,
        {
          detailCode: 'version-conflict',
        },
      );
    }
    const current = stored.resource;
    const changed = differingElements(current, body);
    if (changed.length === 0) {
      return { status: 200, body: current, headers: versionHeaders(stored), resourceIds: [id] };
    }
    const failure = { target: 'url' as const };
    if (body.status === 'cancelled' && current.status !== 'cancelled') {
      const other = changed.find((e) => !CANCEL_ELEMENTS.has(e));
      if (other) throw onlyOneChange(other);
      const reason = body.cancelationReason?.text ?? body.cancelationReason?.coding?.[0]?.display;
      const { appointment, headers } = await cancelAppointment(ctx, deps, id, reason, {
        expectedVersion,
        failure,
      });
      return { status: 200, body: appointment, headers, resourceIds: [id] };
    }
    const other = changed.find((e) => !TIME_ELEMENTS.has(e));
    if (other) throw onlyOneChange(other);
    const start = parseDateTime(body.start);
    const end = parseDateTime(body.end);
    if (!start) throw invalidTime('start', 'start must be a date-time with a time zone');
    if (!end || !(end > start))
      throw invalidTime('end', 'end must be a date-time with a time zone after start');
    const minutes = (end.getTime() - start.getTime()) / 60_000;
    if (body.minutesDuration !== undefined && body.minutesDuration !== minutes) {
      throw invalidTime('minutesDuration', 'minutesDuration does not match start and end');
    }
    const { appointment, headers } = await rescheduleAppointment(
      ctx,
      deps,
      id,
      { start, minutes },
      { expectedVersion, failure },
    );
    return { status: 200, body: appointment, headers, resourceIds: [id] };
  });
}

/** Top-level elements whose content differs between the stored and the sent resource. */
function differingElements(stored: Resource, sent: Resource): string[] {
  const keys = new Set([...Object.keys(stored), ...Object.keys(sent)]);
  const a = stored as unknown as Record<string, unknown>;
  const b = sent as unknown as Record<string, unknown>;
  return [...keys]
    .filter((key) => !IGNORED.has(key))
    .filter((key) => canonicalJson(a[key] ?? null) !== canonicalJson(b[key] ?? null))
    .sort();
}

function onlyOneChange(element: string): FhirError {
  return FhirError.of(
    422,
    'business-rule',
    'an update may cancel the appointment (status) or move it (start/end), nothing else: send it as read with that one change',
    { expression: `Appointment.${element}`, detailCode: 'update-not-supported' },
  );
}

function invalidTime(element: string, text: string): FhirError {
  return FhirError.of(400, 'value', text, { expression: `Appointment.${element}` });
}
