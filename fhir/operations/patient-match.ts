/**
 * `Patient/$match` (https://hl7.org/fhir/R4/patient-operation-match.html, canonical
 * http://hl7.org/fhir/OperationDefinition/Patient-match; standards.md 1.2): POST Parameters with `resource` (a
 * Patient, 1..1), `onlyCertainMatches` (boolean) and `count` (integer, default 10, at most 100). Answers a
 * searchset Bundle of the tenant's patients matching it, best first, each entry with `search.mode=match`,
 * `search.score` (0..1) and the `match-grade` extension (`certain` | `probable` | `possible`); how they are graded
 * is documented in src/booking/patient-registration.ts. Served from the store, never waiting on the records
 * system.
 */
import type { Bundle, Patient } from '@medplum/fhirtypes';
import { randomUUID } from 'node:crypto';
import type { RoutedFhirRequest } from '../fhir-request.js';
import { matchPatients } from '../../src/booking/patient-registration.js';
import type { FhirRequestContext } from '../access.js';
import type { InteractionResult } from '../interactions/interaction-deps.js';
import { FhirError } from '../operation-outcome.js';
import { resourceUrl } from '../search/bundle-builder.js';
import type { BookingHandlerDeps } from '../booking/booking-handler-deps.js';
import { auditedOperation } from '../booking/operation-access.js';
import { single } from '../booking/parameters.js';
import {
  inParameter,
  outParameter,
  readOperationParameters,
  type OperationSpec,
} from './operation-definition.js';

/** The OperationDefinition of `Patient/$match` (FHIR R4's, as Switchboard serves it). */
export const MATCH_DEFINITION: OperationSpec = {
  id: 'Patient-match',
  url: 'http://hl7.org/fhir/OperationDefinition/Patient-match',
  name: 'PatientMatch',
  title: 'Find patient matches',
  code: 'match',
  resource: ['Patient'],
  system: false,
  type: true,
  instance: false,
  affectsState: false,
  description:
    'Patients matching a Patient resource, graded by family and given name, birth date, phone, gender and identifier (search.score, match-grade extension).',
  parameter: [
    inParameter('resource', '1..1', 'Patient', 'The patient to match.'),
    inParameter('onlyCertainMatches', '0..1', 'boolean', 'Only matches graded certain.'),
    inParameter('count', '0..1', 'integer', 'Most matches returned: default 10, at most 100.'),
    outParameter('return', '1..1', 'Bundle', 'A searchset Bundle of the matches, best first.'),
  ],
};

export const MATCH_OPERATION = {
  name: MATCH_DEFINITION.code,
  definition: MATCH_DEFINITION.url,
  documentation:
    'Patients matching a Patient resource, graded by family and given name, birth date, phone, gender and identifier (search.score, match-grade extension). onlyCertainMatches, count (default 10, max 100).',
} as const;

export const MATCH_GRADE_EXTENSION = 'http://hl7.org/fhir/StructureDefinition/match-grade';
const DEFAULT_COUNT = 10;
const MAX_COUNT = 100;

export function matchPatient(
  ctx: FhirRequestContext,
  deps: BookingHandlerDeps,
  request: RoutedFhirRequest,
): Promise<InteractionResult> {
  return auditedOperation(ctx, deps.interaction, 'Patient', '$match', 'rs', async () => {
    const parameters = readOperationParameters(MATCH_DEFINITION, request.body);
    const patient = single(parameters, 'resource')?.resource as Patient;
    const onlyCertain = single(parameters, 'onlyCertainMatches');
    const countParameter = single(parameters, 'count');
    const count = countParameter?.valueInteger ?? countParameter?.valuePositiveInt ?? DEFAULT_COUNT;
    if (!Number.isInteger(count) || count < 1) {
      throw FhirError.of(400, 'invalid', 'count must be a positive integer', { expression: 'count' });
    }
    const all = await matchPatients(ctx.store, ctx.tenant.id, patient);
    const wanted = onlyCertain?.valueBoolean ? all.filter((m) => m.grade === 'certain') : all;
    const page = wanted.slice(0, Math.min(count, MAX_COUNT));
    const base = deps.interaction.baseUrl(ctx);
    const bundle: Bundle = {
      resourceType: 'Bundle',
      id: randomUUID(),
      meta: { lastUpdated: deps.now().toISOString() },
      type: 'searchset',
      total: page.length,
      ...(page.length > 0
        ? {
            entry: page.map((m) => ({
              fullUrl: resourceUrl(base, 'Patient', m.patient.id),
              resource: m.patient,
              search: {
                extension: [{ url: MATCH_GRADE_EXTENSION, valueCode: m.grade }],
                mode: 'match' as const,
                score: m.score,
              },
            })),
          }
        : {}),
    };
    return {
      status: 200,
      body: bundle,
      resourceIds: page.map((m) => m.patient.id),
      parameters: ['resource'],
    };
  });
}
