/**
 * The errors a search request can earn, each a {@link FhirError} whose issue `expression` names the offending
 * parameter as the client wrote it (`birthdate`, `name:foo`, `_count`), rendered by `renderFhirError`.
 */
import { FhirError, type IssueType } from '../operation-outcome.js';

/** 400: the value of `parameter` cannot be used. */
export function invalidParameter(parameter: string, text: string): FhirError {
  return FhirError.of(400, 'invalid', text, { expression: parameter });
}

/** 400: the server does not support `parameter` (or its modifier, prefix or form). */
export function unsupportedParameter(parameter: string, text: string): FhirError {
  return FhirError.of(400, 'not-supported', text, { expression: parameter });
}

/** 400: the request exceeds a bound (too many alternatives, too many parameters). */
export function tooCostly(parameter: string, text: string, code: IssueType = 'too-costly'): FhirError {
  return FhirError.of(400, code, text, { expression: parameter });
}
