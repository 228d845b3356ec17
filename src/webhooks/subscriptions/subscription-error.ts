/**
 * The one error the webhook subscription functions throw for a request they refuse (DESIGN.md section 6). The
 * FHIR facade turns it into an OperationOutcome: `code` is the issue type, `expression` the FHIRPath of the
 * offending element, and `message` is safe to show (it never contains secrets or PHI).
 */

/** OperationOutcome issue types these errors carry (http://hl7.org/fhir/R4/valueset-issue-type.html). */
export type SubscriptionIssueCode =
  'invalid' | 'required' | 'value' | 'not-supported' | 'security' | 'not-found' | 'conflict';

/** A subscription request refused; see the module comment for how the facade renders it. */
export class SubscriptionError extends Error {
  override readonly name = 'SubscriptionError';

  constructor(
    readonly code: SubscriptionIssueCode,
    message: string,
    readonly expression?: string,
  ) {
    super(message);
  }
}

/** True when `error` is a {@link SubscriptionError}. */
export function isSubscriptionError(error: unknown): error is SubscriptionError {
  return error instanceof SubscriptionError;
}
