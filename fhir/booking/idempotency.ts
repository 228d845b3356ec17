/**
 * `Idempotency-Key` on writes that must not happen twice (POST Appointment, POST Patient, `$hold`, `$book`),
 * after draft-ietf-httpapi-idempotency-key-header-07 (standards.md 6, reliability.md 1.2):
 * - the key is a Structured Field string (`"…"`); a bare token is accepted too. 16–255 visible ASCII characters
 *   (keys must carry entropy), else 400;
 * - it is scoped per tenant and client; the fingerprint is SHA-256 of method, path and the canonical JSON body;
 * - a retry after completion gets the stored response (status, headers, body; success or error); the same key with
 *   a different request → 422; while the first request still runs → 409 with `Retry-After`;
 * - records are kept {@link IDEMPOTENCY_RETENTION_MS} (24 h), as the CapabilityStatement documents; expired
 *   ones are purged.
 * A `202 booking-pending` is stored bound to its booking: a replay asks the booking again (`settle`) and, once it
 * has ended, stores and answers the final response instead. A key is bound to its booking saga from the claim
 * on, so a replay of a key whose process died (kill -9, on any instance) answers that saga's outcome at once.
 * Outcomes a retry should not see again — 5xx and 429 (the records system was unreachable or busy, nothing was
 * booked) — are not stored: the key is released so the retry runs afresh (the saga's claims and marker keep that
 * safe). Errors are OperationOutcomes like every answer of the facade, not `application/problem+json`.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { FhirRequest } from '../fhir-request.js';
import type { Resource } from '@medplum/fhirtypes';
import {
  IDEMPOTENCY_RETENTION_MS,
  bindIdempotencyKey,
  claimIdempotencyKey,
  completeIdempotencyKey,
  forgetIdempotencyKey,
  takeOverIdempotencyKey,
  type IdempotencyScope,
  type StoredResponse,
} from '../../src/booking/idempotency-store.js';
import type { ClaimOwners } from '../../src/booking/claim-owners.js';
import { readSaga } from '../../src/booking/saga/saga-store.js';
import {
  dropPendingIdempotencyKey,
  settlePendingIdempotencyKey,
} from '../../src/store/idempotency-settle.js';
import { canonicalJson } from '../../src/store/content-hash.js';
import type { FhirRequestContext } from '../access.js';
import type { AuditedResult } from '../interactions/interaction-deps.js';
import { FhirError, operationOutcome } from '../operation-outcome.js';
import { BOOKING_ID_HEADER } from './booking-outcome.js';

/** For the CapabilityStatement: what the server promises about `Idempotency-Key`. */
export const IDEMPOTENCY_DOCUMENTATION = `Idempotency-Key (draft-ietf-httpapi-idempotency-key-header) is honoured on POST Appointment, POST Patient, Appointment/$hold and Appointment/$book: a structured-field string of 16-255 visible ASCII characters, scoped to the tenant and client. A retry with the same key and request gets the first response again; the same key with a different request is refused with 422, and while the first request is still running with 409; if the process running it died, a replay answers its booking's outcome (202 booking-pending until known), or for $hold the hold it made. Keys and responses are kept for ${IDEMPOTENCY_RETENTION_MS / 3_600_000} hours, then purged. Failures worth retrying (503, 429) are not kept.`;

/** Client id of requests without an authenticated client (tests, or a router without authentication). */
const ANONYMOUS = '-';
const KEY = /^[\x21-\x7e]{16,255}$/;

/** What a request run under an `Idempotency-Key` is bound to (see {@link withIdempotency}). */
export interface IdempotentRun {
  /** The saga id a new booking runs under: bound to the key before the saga starts (`BookingService.book`). */
  readonly bookingId: string;
  /** Binds the key to an existing saga instead (a hold being confirmed), before that saga goes on. */
  bindTo(sagaId: string): Promise<void>;
}

export interface IdempotencyOptions {
  /** This process and the liveness of others (`BookingService.owners`). */
  owners: ClaimOwners;
  /**
   * The answer of booking `bookingId` as it stands now: for a replay of a stored `202 booking-pending`, and of a
   * key left `in-flight` by a dead process after its saga was recorded. Without it such replays answer what was
   * stored, or `409`.
   */
  settle?: (bookingId: string) => Promise<AuditedResult>;
}

/**
 * Runs `run` under the request's `Idempotency-Key`, if it has one. Call inside `audited` (after authorization),
 * so a replay is authorized and audited like the first answer.
 *
 * A replay while the first request has not finished answers `409`, unless the process running it has died: then
 * the answer is its saga's outcome once the saga was recorded (`booking-pending` until recovery ends it), stored as
 * the first answer would have been; or, with no saga recorded, nothing was sent and the replay runs the request.
 */
export async function withIdempotency(
  ctx: FhirRequestContext,
  request: FhirRequest,
  now: Date,
  run: (bound: IdempotentRun) => Promise<AuditedResult>,
  options: IdempotencyOptions,
): Promise<AuditedResult> {
  const header = request.headers['idempotency-key'];
  const binding = { sagaId: randomUUID(), owner: options.owners.self };
  if (header === undefined) return run({ bookingId: binding.sagaId, bindTo: () => Promise.resolve() });
  const scope: IdempotencyScope = {
    tenantId: ctx.tenant.id,
    clientId: ctx.client?.id ?? ANONYMOUS,
    key: parseKey(header),
  };
  // The path as HTTP routing saw it below `/fhir`, so fingerprints stored before stay comparable.
  const path = `/${request.tenant}/${request.path}`;
  const fingerprint = createHash('sha256')
    .update(`${request.method}\n${path}\n${canonicalJson(request.body ?? null)}`)
    .digest('hex');
  let claim = await claimIdempotencyKey(ctx.store, scope, fingerprint, now, binding);
  if (claim.kind === 'in-flight' && claim.owner && !(await options.owners.isAlive(claim.owner))) {
    // Its process died. Once its saga was recorded, the saga's outcome is the answer (recovery finishes it);
    // before that nothing was sent for it, so this request runs it.
    const { sagaId, owner } = claim;
    const settle = options.settle;
    if (sagaId && settle && (await readSaga(ctx.store, scope.tenantId, sagaId))) {
      return remembered(ctx, scope, () => settle(sagaId));
    }
    claim = await takeOverIdempotencyKey(ctx.store, scope, fingerprint, now, owner, binding);
  }
  switch (claim.kind) {
    case 'mismatch':
      throw FhirError.of(
        422,
        'business-rule',
        'this Idempotency-Key was already used for a different request',
        {
          detailCode: 'idempotency-key-reused',
        },
      );
    case 'in-flight':
      throw new FhirError(
        409,
        operationOutcome('conflict', 'a request with this Idempotency-Key is still being processed', {
          detailCode: 'idempotency-key-in-flight',
        }),
        { 'Retry-After': '1' },
      );
    case 'replay': {
      // A stored `202 booking-pending` stays bound to its booking: ask again, and keep the final answer.
      const pendingId = claim.response.status === 202 ? bookingIdOf(claim.response) : undefined;
      if (pendingId && options.settle) return settled(ctx, scope, pendingId, options.settle);
      const { status, headers, body } = claim.response;
      if (status >= 400 || status === 202) throw new FhirError(status, body as FhirError['outcome'], headers);
      const resource = body as Resource | undefined;
      return { status, headers, body: resource, resourceIds: resourceIdsOf(resource) };
    }
    case 'claimed':
      break;
  }
  return remembered(ctx, scope, () =>
    run({
      bookingId: binding.sagaId,
      bindTo: (sagaId) => bindIdempotencyKey(ctx.store, scope, sagaId),
    }),
  );
}

/**
 * `answer`, kept under the claimed key for replays: a success or a refusal is stored; what a retry should not see
 * again (5xx, 429: nothing was booked) releases the key so the retry runs afresh (the saga's claims and marker keep
 * that safe); a `202` is stored and asked again on replay.
 */
async function remembered(
  ctx: FhirRequestContext,
  scope: IdempotencyScope,
  answer: () => Promise<AuditedResult>,
): Promise<AuditedResult> {
  let result: AuditedResult;
  try {
    result = await answer();
  } catch (err) {
    if (err instanceof FhirError && err.status < 500 && err.status !== 429) {
      await completeIdempotencyKey(ctx.store, scope, {
        status: err.status,
        headers: err.headers,
        body: err.outcome,
      });
    } else {
      await forgetIdempotencyKey(ctx.store, scope);
    }
    throw err;
  }
  // 202 returned (not thrown): the outcome is not known yet, so the same key again must ask anew.
  if (result.status >= 500 || result.status === 429 || result.status === 202) {
    await forgetIdempotencyKey(ctx.store, scope);
  } else {
    await completeIdempotencyKey(ctx.store, scope, {
      status: result.status,
      headers: result.headers ?? {},
      body: result.body,
    });
  }
  return result;
}

/** The booking a stored `202` names (its `X-Booking-Id`). */
function bookingIdOf(response: StoredResponse): string | undefined {
  return Object.entries(response.headers).find(
    ([name]) => name.toLowerCase() === BOOKING_ID_HEADER.toLowerCase(),
  )?.[1];
}

/** The answer of a pending booking as it stands now; a final one replaces the stored `202`. */
async function settled(
  ctx: FhirRequestContext,
  scope: IdempotencyScope,
  bookingId: string,
  settle: (bookingId: string) => Promise<AuditedResult>,
): Promise<AuditedResult> {
  try {
    const result = await settle(bookingId);
    if (result.status !== 202) {
      await settlePendingIdempotencyKey(ctx.store, scope, {
        status: result.status,
        headers: result.headers ?? {},
        body: result.body,
      });
    }
    return result;
  } catch (err) {
    // Ended without a booking and worth retrying (5xx, 429): the key is freed, like a first answer of that kind.
    if (err instanceof FhirError && (err.status >= 500 || err.status === 429)) {
      await dropPendingIdempotencyKey(ctx.store, scope);
    } else if (err instanceof FhirError && err.status !== 202) {
      await settlePendingIdempotencyKey(ctx.store, scope, {
        status: err.status,
        headers: err.headers,
        body: err.outcome,
      });
    }
    throw err;
  }
}

/** The key of a Structured Field string (`"abc"`, with `\"` and `\\` escapes) or a bare token. */
function parseKey(header: string): string {
  const trimmed = header.trim();
  let key = trimmed;
  if (trimmed.startsWith('"')) {
    const match = /^"((?:[^"\\]|\\["\\])*)"$/.exec(trimmed);
    key = match?.[1]?.replace(/\\(["\\])/g, '$1') ?? '';
  }
  if (!KEY.test(key)) {
    throw FhirError.of(
      400,
      'invalid',
      'Idempotency-Key must be a string of 16 to 255 visible ASCII characters, such as a UUID',
      { detailCode: 'idempotency-key-invalid' },
    );
  }
  return key;
}

/** What a replayed answer returns, for the audit trail: the resource, or a Bundle's entries. */
function resourceIdsOf(resource: Resource | undefined): string[] {
  if (resource?.resourceType === 'Bundle') {
    return (resource.entry ?? []).flatMap((e) => (e.resource?.id ? [e.resource.id] : []));
  }
  return resource?.id ? [resource.id] : [];
}
