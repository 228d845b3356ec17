/**
 * The `200` answering a create that found what it would have created already there: conditional create's match
 * (https://hl7.org/fhir/R4/http.html#ccreate) and an agent's keyless retry of a booking it already made
 * (`duplicate-request`, issue 10 item 7). Nothing was created, so not `201`; nothing conflicts, so not `409`.
 * The body is the existing resource with its `ETag` (and `Location` when asked); a notice about why is carried the
 * FHIR way: with `Prefer: return=OperationOutcome` the body is an OperationOutcome whose `information` issue says
 * it (https://hl7.org/fhir/R4/http.html#ops), instead of the resource.
 */
import type { OperationOutcome, Resource } from '@medplum/fhirtypes';
import type { InteractionResult } from '../interactions/interaction-deps.js';
import { SWITCHBOARD_ISSUE_SYSTEM } from '../operation-outcome.js';
import { writtenHeaders } from './booking-outcome.js';

export interface ExistingAnswerOptions {
  /** The base URL: the answer carries the resource's `Location` (`…/{type}/{id}/_history/{v}`). */
  base?: string;
  /** Why the existing resource is answered: a Switchboard issue code and its text. */
  notice?: { code: string; text: string };
  /** The client sent `Prefer: return=OperationOutcome`: the notice is the body. */
  outcomeBody?: boolean;
}

/** `200` with the resource already there (or the notice about it), its `ETag` and, when asked, `Location`. */
export function existingAnswer(
  resource: Resource & { id: string },
  options: ExistingAnswerOptions = {},
): InteractionResult & { resourceIds: string[] } {
  const versionId = Number(resource.meta?.versionId ?? 1);
  const headers = writtenHeaders(options.base ?? '', resource, versionId, {
    location: options.base !== undefined,
  });
  const body: Resource = options.outcomeBody && options.notice ? noticeOutcome(options.notice) : resource;
  return { status: 200, body, headers, resourceIds: [resource.id] };
}

function noticeOutcome(notice: { code: string; text: string }): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: [
      {
        severity: 'information',
        code: 'informational',
        details: { coding: [{ system: SWITCHBOARD_ISSUE_SYSTEM, code: notice.code }], text: notice.text },
        diagnostics: notice.text,
      },
    ],
  };
}
