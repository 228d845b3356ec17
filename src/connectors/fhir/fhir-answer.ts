/**
 * What an upstream FHIR server's HTTP answer means (issue 12): the resource it carries, or the {@link UpstreamError}
 * that says what failed and whether a write may have been applied. Used by fhir-client.ts for every call.
 */
import type { CallMode } from '../upstream-call-policy.js';
import { UpstreamError } from '../upstream-error.js';

/** The parsed body of a successful answer, or the error an unsuccessful (or broken) one means. */
export async function readBody<T>(response: Response, method: string, url: URL, mode: CallMode): Promise<T> {
  const status = response.status;
  // Read whole by the call policy: an answer cut off mid-body failed there, as `unavailable` or `timeout`.
  const text = await response.text();
  if (response.ok) {
    // A read always answers a resource; an empty one is a broken answer, not an empty result.
    if (!text && method === 'GET') {
      throw new UpstreamError('unavailable', `empty answer to GET ${url.pathname}`, {
        status,
        outcome: 'not-applied',
      });
    }
    try {
      return (text ? JSON.parse(text) : undefined) as T;
    } catch (cause) {
      throw new UpstreamError('unavailable', `malformed JSON for ${method} ${url.pathname}`, {
        status,
        outcome: mode === 'write' ? 'unknown' : 'not-applied',
        cause,
      });
    }
  }
  const detail = describe(text);
  if (status === 404)
    throw new UpstreamError('not-found', `${method} ${url.pathname}: not found`, { status });
  if (status === 401 || status === 403) {
    throw new UpstreamError('unauthorized', `upstream FHIR server refused our credentials: ${detail}`, {
      status,
    });
  }
  throw new UpstreamError('rejected', `${method} ${url.pathname} rejected: ${detail}`, {
    status,
    outcome: 'not-applied',
  });
}

/** The first issue's text of an OperationOutcome, or the start of whatever else the server sent. */
export function describe(text: string): string {
  try {
    const body = JSON.parse(text) as { issue?: Array<{ details?: { text?: string }; diagnostics?: string }> };
    const issue = body.issue?.[0];
    return issue?.details?.text ?? issue?.diagnostics ?? text.slice(0, 200);
  } catch {
    return text.slice(0, 200) || '(no body)';
  }
}
