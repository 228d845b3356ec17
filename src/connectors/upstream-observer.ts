/**
 * What a records-system client reports about each call it makes (issue 15): for the operator console's "records
 * system" panel and the upstream metrics. No PHI: the endpoint is a path template (ids replaced by `{id}`), never
 * a query string.
 */
import { UpstreamError, type UpstreamErrorKind } from './upstream-error.js';

/** One HTTP call to a records system, answered or not. */
export interface UpstreamCall {
  /** `GET /appointments`, `PUT /appointments/{id}`, `POST /oauth/token`, `GET Appointment/{id}`. */
  endpoint: string;
  /** `ok`, or how it failed. */
  outcome: 'ok' | UpstreamErrorKind;
  durationMs: number;
  /** HTTP status, when there was an answer. */
  status?: number;
  /** The failure's message (Switchboard's words, no upstream body beyond a short detail). */
  error?: string;
}

/** Receives each call of one tenant's connector. Must not throw. */
export type UpstreamObserver = (call: UpstreamCall) => void;

/**
 * A path as an endpoint template: the query is dropped and every segment that is not a word of the API becomes
 * `{id}` — numbers, opaque ids, and whatever follows a FHIR resource type (`Patient/{id}`).
 */
export function endpointTemplate(method: string, path: string): string {
  const segments = (path.split('?')[0] ?? '').split('/');
  const template = segments.map((segment, i) => {
    const previous = segments[i - 1] ?? '';
    const afterResourceType = /^[A-Z][A-Za-z]+$/.test(previous);
    const word = /^([a-z][a-z-]*|[A-Z][A-Za-z]+|[$_][a-z][A-Za-z-]*)$/.test(segment);
    const operation = /^\$[a-z][A-Za-z-]*$/.test(segment);
    return segment === '' || operation || (word && !afterResourceType) ? segment : '{id}';
  });
  return `${method} ${template.join('/')}`;
}

/**
 * Runs one call and reports it to `observer`: `ok`, or the {@link UpstreamError}'s kind. A call the caller
 * abandoned (its own abort) is not the records system's doing and is not reported.
 */
export async function observed<T>(
  observer: UpstreamObserver | undefined,
  endpoint: string,
  work: () => Promise<T>,
): Promise<T> {
  if (!observer) return work();
  const started = performance.now();
  try {
    const result = await work();
    observer({ endpoint, outcome: 'ok', durationMs: performance.now() - started });
    return result;
  } catch (err) {
    if (err instanceof UpstreamError) {
      observer({
        endpoint,
        outcome: err.kind,
        durationMs: performance.now() - started,
        ...(err.status === undefined ? {} : { status: err.status }),
        error: err.message,
      });
    }
    throw err;
  }
}
