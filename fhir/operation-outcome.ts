/**
 * Errors inside the facade are thrown as a {@link FhirError} carrying an OperationOutcome and turned into a response in exactly
 * one place ({@link errorResponse}). Codes come from the FHIR issue-type value set
 * (https://hl7.org/fhir/R4/valueset-issue-type.html); `details.coding` carries Switchboard's own precise code
 * (`slot-taken`, `ehr-unavailable`, …) where there is one.
 */
import type { OperationOutcome, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import type { Logger } from '../src/logger.js';
import type { FhirResponse } from './fhir-request.js';

export const SWITCHBOARD_ISSUE_SYSTEM = 'https://switchboard.health/fhir/CodeSystem/issue';

export type IssueType = NonNullable<OperationOutcomeIssue['code']>;

export interface IssueOptions {
  /** FHIRPath of the offending element or search parameter (`Appointment.start`, `_count`). */
  expression?: string;
  /** Switchboard's own, more precise code. */
  detailCode?: string;
  severity?: OperationOutcomeIssue['severity'];
}

export function operationOutcome(
  code: IssueType,
  text: string,
  options: IssueOptions = {},
): OperationOutcome {
  const issue: OperationOutcomeIssue = { severity: options.severity ?? 'error', code, diagnostics: text };
  if (options.detailCode) {
    issue.details = { coding: [{ system: SWITCHBOARD_ISSUE_SYSTEM, code: options.detailCode }], text };
  }
  if (options.expression) issue.expression = [options.expression];
  return { resourceType: 'OperationOutcome', issue: [issue] };
}

/** An error the facade answers with `status` and an OperationOutcome body. */
export class FhirError extends Error {
  override readonly name = 'FhirError';
  constructor(
    readonly status: number,
    readonly outcome: OperationOutcome,
    readonly headers: Record<string, string> = {},
    /**
     * The body answered instead of the bare OperationOutcome, when a specification wraps it (IHE ITI-116/117:
     * a Bundle holding only the OperationOutcome). `outcome` stays the error's meaning.
     */
    readonly body?: Resource,
  ) {
    super(outcome.issue?.[0]?.diagnostics ?? `HTTP ${status}`);
  }

  static of(status: number, code: IssueType, text: string, options?: IssueOptions): FhirError {
    return new FhirError(status, operationOutcome(code, text, options));
  }
}

export const notFound = (what: string): FhirError => FhirError.of(404, 'not-found', `${what} is not known`);

/**
 * The answer to every error reaching the facade, the one place errors become responses: FhirErrors as they
 * are, HTTP-level errors below 500 (a body parser's) as 400/413, the rest as 500 without internals (logged).
 */
export function errorResponse(
  err: unknown,
  logger: Logger,
  request: { method: string; path: string },
): FhirResponse {
  let error: FhirError;
  if (err instanceof FhirError) {
    error = err;
  } else if (isHttpError(err) && err.status < 500) {
    const tooLarge = err.status === 413;
    error = FhirError.of(
      err.status,
      tooLarge ? 'too-costly' : 'invalid',
      tooLarge ? 'request body too large' : 'request body is not valid JSON',
    );
  } else {
    logger.error({ err, method: request.method, path: request.path }, 'unhandled error in FHIR request');
    error = FhirError.of(500, 'exception', 'internal error; the request was not completed');
  }
  return { status: error.status, headers: error.headers, body: error.body ?? error.outcome };
}

function isHttpError(err: unknown): err is { status: number } {
  return typeof err === 'object' && err !== null && typeof (err as { status?: unknown }).status === 'number';
}
