/**
 * A FHIR request and its answer as plain data, free of any transport (Medplum's `FhirRequest` / `FhirResponse` of
 * `packages/fhir-router` is the model). `fhir/fhir-router.ts` builds a {@link FhirRequest} from an HTTP request
 * and renders the {@link FhirResponse}; any other facade in the process (the agent interface) builds one itself
 * and calls `handleFhirRequest` of `fhir/fhir-handler.ts`. Handlers read requests through the helpers below.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { ClientConfig } from '../src/config.js';
import type { Store } from '../src/store/database.js';

/** The request headers handlers look at, by lower-case name. */
export const FHIR_REQUEST_HEADERS = [
  'accept',
  'content-length',
  'content-type',
  'idempotency-key',
  'if-match',
  'if-modified-since',
  'if-none-exist',
  'if-none-match',
  'prefer',
  'transfer-encoding',
] as const;

export type FhirRequestHeaderName = (typeof FHIR_REQUEST_HEADERS)[number];
export type FhirRequestHeaders = Partial<Record<FhirRequestHeaderName, string>>;

export interface FhirRequest {
  /** Upper case: `GET`, `POST`, `PUT`, `PATCH`, `DELETE` (`HEAD` is answered as `GET`). */
  method: string;
  /** The tenant id: the `{tenant}` of `/fhir/{tenant}/…`. */
  tenant: string;
  /** The path below the tenant base, without a leading slash and still percent-encoded: `Appointment/7/$book`. */
  path: string;
  /** The query parameters in request order, repeated ones kept. */
  query: ReadonlyArray<readonly [string, string]>;
  headers: FhirRequestHeaders;
  /** The parsed body: a resource (JSON), the text of a form (`POST _search`), or undefined for none. */
  body?: unknown;
  /** The authenticated client; undefined only for public interactions (`metadata`) and unauthenticated set-ups. */
  client?: ClientConfig;
  /** The store to serve from; default the one the handler was built with. */
  store?: Store;
  /** Correlates log lines and audit records; default a new UUID. */
  requestId?: string;
  /**
   * Aborted when the caller has gone (the connection closed before the answer was sent): a booking not yet sent
   * upstream is given up cleanly instead of writing for nobody. Default: never aborted.
   */
  signal?: AbortSignal;
  /**
   * A read let run while its rate-limit count is on its way (`Admission.verdict` of request-limits.ts): undefined
   * once admitted, else what to answer instead. The handler writes no audit record and sends no answer of the
   * request before it has resolved. Absent: admitted before the request reached the handler.
   */
  admission?: Promise<unknown>;
}

/** A request matched to a route: `params` holds the route's `:name` segments, decoded. */
export interface RoutedFhirRequest extends FhirRequest {
  params: Readonly<Record<string, string>>;
}

export interface FhirResponse {
  status: number;
  headers?: Record<string, string>;
  /** A resource, an OperationOutcome for an error; absent for 304 Not Modified and 204. */
  body?: Resource;
  /**
   * A plain JSON body instead of a resource, sent as `application/json`: the OAuth and SMART endpoints
   * (token endpoint, `.well-known/smart-configuration`), whose answers and errors are not FHIR.
   */
  json?: Record<string, unknown>;
}

/** The value of a request parameter given once in the query (`_format`, `_pretty`), or null. */
export function queryValue(request: Pick<FhirRequest, 'query'>, name: string): string | null {
  return request.query.find(([n]) => n === name)?.[1] ?? null;
}

/**
 * True when the `Prefer` header asks for `return=OperationOutcome` (https://hl7.org/fhir/R4/http.html#ops): the
 * answer's hints and warnings instead of the resource.
 */
export function prefersOperationOutcome(request: Pick<FhirRequest, 'headers'>): boolean {
  return (request.headers.prefer ?? '').split(/[,;]/).some(
    (part) =>
      part
        .trim()
        .toLowerCase()
        .replace(/\s*=\s*/, '=') === 'return=operationoutcome',
  );
}

/** True when the `Prefer` header asks for `handling=strict` (https://hl7.org/fhir/R4/search.html#errors). */
export function prefersStrictHandling(request: Pick<FhirRequest, 'headers'>): boolean {
  return (request.headers.prefer ?? '').split(/[,;]/).some(
    (part) =>
      part
        .trim()
        .toLowerCase()
        .replace(/\s*=\s*/, '=') === 'handling=strict',
  );
}

/** Whether the request carries a body at all (as HTTP says: chunked or with a Content-Length, even 0). */
export function hasBody(request: Pick<FhirRequest, 'headers' | 'body'>): boolean {
  const { headers } = request;
  return (
    request.body !== undefined ||
    headers['transfer-encoding'] !== undefined ||
    (headers['content-length'] !== undefined && !Number.isNaN(Number(headers['content-length'])))
  );
}

/** Whether the request carries non-empty content (chunked, or a Content-Length above 0). */
export function hasContent(request: Pick<FhirRequest, 'headers' | 'body'>): boolean {
  const { headers } = request;
  return (
    request.body !== undefined ||
    headers['transfer-encoding'] !== undefined ||
    Number(headers['content-length'] ?? 0) > 0
  );
}

/**
 * Whether the body is of one of the media `types` (parameters such as `charset` ignored): null without a body,
 * false when there is one of another type or of none (express's `req.is`, for the exact types handlers name).
 */
export function bodyIs(
  request: Pick<FhirRequest, 'headers' | 'body'>,
  types: string | readonly string[],
): boolean | null {
  if (!hasBody(request)) return null;
  const type = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  if (!type) return false;
  return (typeof types === 'string' ? [types] : types).includes(type);
}
