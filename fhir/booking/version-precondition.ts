/**
 * `If-Match` (https://hl7.org/fhir/R4/http.html#concurrency): a weak ETag `W/"3"` (or `"3"`) naming the version
 * the client last read. A malformed header is a 400 rather than being ignored, which would turn a guarded write
 * into an unguarded one.
 */
import { FhirError } from '../operation-outcome.js';

/** The version an `If-Match` names; undefined without the header. */
export function ifMatchVersion(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const match = /^(?:W\/)?"(\d{1,15})"$/.exec(header.trim());
  if (!match) {
    throw FhirError.of(400, 'invalid', 'If-Match must be an ETag as served, like W/"3"', {
      detailCode: 'if-match-invalid',
    });
  }
  return Number(match[1]);
}
