/**
 * The tools' one way into the facade: a {@link FhirRequest} for the MCP caller's tenant and client, answered by
 * `handleFhirRequest` (fhir/fhir-handler.ts). Access control, audit, the booking saga, Idempotency-Key and the
 * keyless identical-retry rule therefore apply to a tool exactly as to the same call over FHIR HTTP.
 */
import type { Bundle, OperationOutcome, Resource } from '@medplum/fhirtypes';
import type { FhirRequest, FhirRequestHeaders, FhirResponse } from '../fhir/fhir-request.js';
import type { ClientConfig } from '../src/config.js';
import { ToolError } from './tool-error.js';

/** Search parameters; an array repeats the parameter (`start=ge…&start=lt…`), undefined leaves it out. */
export type Query = Record<string, string | readonly string[] | undefined>;

export type HandleFhirRequest = (request: FhirRequest) => Promise<FhirResponse>;

export interface FhirCaller {
  /** Any request; the answer as the facade gives it (errors are OperationOutcomes, never thrown). */
  request(
    method: string,
    path: string,
    options?: { query?: Query; headers?: FhirRequestHeaders; body?: unknown },
  ): Promise<FhirResponse>;
  /** A search whose resources of `type` are returned; a failed search is a {@link ToolError}. */
  search<T extends Resource>(type: T['resourceType'], query: Query): Promise<T[]>;
  /** A read; undefined when the resource does not exist (404/410), a {@link ToolError} for other failures. */
  read<T extends Resource>(type: T['resourceType'], id: string): Promise<T | undefined>;
}

export function createFhirCaller(
  handle: HandleFhirRequest,
  tenant: string,
  client: ClientConfig,
  signal?: AbortSignal,
): FhirCaller {
  const request: FhirCaller['request'] = (method, path, options = {}) =>
    handle({
      method,
      tenant,
      path,
      query: Object.entries(options.query ?? {}).flatMap(([k, v]) =>
        (v === undefined ? [] : typeof v === 'string' ? [v] : v).map((value) => [k, value] as const),
      ),
      headers: {
        ...(options.body === undefined ? {} : { 'content-type': 'application/fhir+json' }),
        ...options.headers,
      },
      body: options.body,
      client,
      signal,
    });
  return {
    request,
    async search<T extends Resource>(type: string, query: Query) {
      const answer = await request('GET', type, { query });
      if (answer.status !== 200) throw failed(answer, `searching ${type}`);
      return ((answer.body as Bundle).entry ?? [])
        .map((e) => e.resource)
        .filter((r): r is T => r?.resourceType === type);
    },
    async read<T extends Resource>(type: string, id: string) {
      const answer = await request('GET', `${type}/${encodeURIComponent(id)}`);
      if (answer.status === 404 || answer.status === 410) return undefined;
      if (answer.status !== 200) throw failed(answer, `reading ${type}`);
      return answer.body as T;
    },
  };
}

/** The first issue's text of an OperationOutcome answer. */
export function outcomeText(answer: FhirResponse): string {
  const issue = (answer.body as OperationOutcome | undefined)?.issue?.[0];
  return issue?.details?.text ?? issue?.diagnostics ?? `status ${answer.status}`;
}

/** Switchboard's precise code (details.coding) of an OperationOutcome answer, else its issue code. */
export function outcomeCode(answer: FhirResponse): string {
  const issue = (answer.body as OperationOutcome | undefined)?.issue?.[0];
  return issue?.details?.coding?.[0]?.code ?? issue?.code ?? 'unknown';
}

/** A failed facade call as a tool error: a scope refusal names the scope, anything else says what failed. */
export function failed(answer: FhirResponse, doing: string): ToolError {
  if (answer.status === 403) return new ToolError(`Not allowed: ${outcomeText(answer)}.`);
  if (answer.status === 503 || answer.status === 429) {
    return new ToolError(
      `The practice's records system is not answering right now (${doing}); try again shortly.`,
    );
  }
  return new ToolError(`${doing} failed: ${outcomeText(answer)}`);
}
