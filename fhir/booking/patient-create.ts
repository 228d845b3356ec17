/**
 * `POST [base]/Patient`: registers a new patient in the records system (DESIGN.md section 1, "create a new patient
 * (flagged for staff review)"; standards.md 1.2 "the server SHOULD return the existing record if the patient
 * already exists"). A patient matching with certainty (family and given name, birth date and phone, or an
 * identifier: src/booking/patient-registration.ts) is answered with `200 OK` and the existing record instead of a
 * duplicate; otherwise `201 Created` with the new Patient, tagged `needs-review` in `meta.tag`. When the records
 * system may have created it but cannot tell yet (time-out, dropped connection), `202` coded `registration-pending`:
 * the same request again reconciles, and the patient is created upstream once. `If-None-Exist`
 * and `Idempotency-Key` honoured. The records system needs a family name, a given name and a birth date (400
 * naming the element otherwise).
 */
import { validateWrite } from '../write-validation.js';
import type { Patient } from '@medplum/fhirtypes';
import type { RoutedFhirRequest } from '../fhir-request.js';
import type { FhirRequestContext } from '../access.js';
import { audited, type InteractionResult } from '../interactions/interaction-deps.js';
import { versionHeaders } from '../interactions/resource-headers.js';
import { FhirError } from '../operation-outcome.js';
import { patientDefinition } from '../resources/patient.js';
import type { BookingHandlerDeps } from './booking-handler-deps.js';
import { bookingFailureError, writtenHeaders } from './booking-outcome.js';
import { conditionalMatch } from './conditional-create.js';
import { withIdempotency } from './idempotency.js';
import { registrationPendingResult } from './registration-pending.js';

const BIRTH_DATE = /^\d{4}-\d{2}-\d{2}$/;
const GENDERS = new Set(['male', 'female', 'other', 'unknown']);

export function createPatient(
  ctx: FhirRequestContext,
  deps: BookingHandlerDeps,
  request: RoutedFhirRequest,
): Promise<InteractionResult> {
  return audited(ctx, deps.interaction, 'create', 'Patient', () =>
    withIdempotency(
      ctx,
      request,
      deps.now(),
      async () => {
        const existing = await conditionalMatch(
          ctx,
          deps.interaction,
          patientDefinition,
          request.headers['if-none-exist'],
        );
        if (existing) {
          // Answering with an existing patient is a read of it.
          deps.interaction.access.authorize(ctx, 'Patient', 'read');
          return {
            status: 200,
            body: existing,
            headers: versionHeaders({
              versionId: Number(existing.meta?.versionId ?? 1),
              lastUpdated: existing.meta?.lastUpdated ?? '',
            }),
            resourceIds: [existing.id],
          };
        }
        const patient = validPatient(request.body, deps.now());
        const outcome = await deps
          .booking()
          .registerPatient(ctx.tenant.id, patient, { clientId: ctx.client?.id });
        if (!outcome.ok && 'pending' in outcome) return registrationPendingResult(outcome);
        if (!outcome.ok) throw bookingFailureError(outcome);
        if (!outcome.created) deps.interaction.access.authorize(ctx, 'Patient', 'read');
        const base = deps.interaction.baseUrl(ctx);
        return {
          status: outcome.created ? 201 : 200,
          body: outcome.patient,
          headers: writtenHeaders(base, outcome.patient, outcome.versionId, { location: outcome.created }),
          resourceIds: [outcome.patient.id],
        };
      },
      { owners: deps.booking().owners },
    ),
  );
}

/** The Patient of the body, checked for what the records system needs; 400 naming the element otherwise. */
export function validPatient(body: unknown, now: Date, path = 'Patient'): Patient {
  const bad = (element: string, text: string, code: 'invalid' | 'required' | 'value' = 'invalid') =>
    FhirError.of(400, code, text, { expression: element ? `${path}.${element}` : path });
  if (
    typeof body !== 'object' ||
    body === null ||
    (body as { resourceType?: unknown }).resourceType !== 'Patient'
  ) {
    throw bad('', 'the body must be a Patient resource');
  }
  validateWrite(body as Patient, { path });
  const patient = body as Patient;
  if (patient.id !== undefined) throw bad('id', 'a new patient must not carry an id: the server assigns it');
  const name = patient.name?.find((n) => n.use === 'official') ?? patient.name?.[0];
  if (!name?.family?.trim()) throw bad('name', 'name needs a family name', 'required');
  if (!name.given?.some((g) => typeof g === 'string' && g.trim() !== '')) {
    throw bad('name', 'name needs a given name', 'required');
  }
  if (!patient.birthDate) throw bad('birthDate', 'birthDate is required', 'required');
  if (!BIRTH_DATE.test(patient.birthDate) || patient.birthDate > now.toISOString().slice(0, 10)) {
    throw bad('birthDate', 'birthDate must be a past date like 1980-04-17', 'value');
  }
  if (patient.gender !== undefined && !GENDERS.has(patient.gender)) {
    throw bad('gender', 'gender must be male, female, other or unknown', 'value');
  }
  return patient;
}
