/**
 * HTTP client for an upstream FHIR R4 server (issue 12), with the same etiquette as the proprietary simulator's
 * client (src/connectors/sim/sim-client.ts, DESIGN.md section 7): tokens renewed before expiry and once on 401, a
 * per-call timeout, a per-tenant concurrency limit and circuit breaker (cockatiel), retries for reads only, and 429
 * honoured — `Retry-After` when the server sends one, exponential backoff when it does not. Searches follow
 * `Bundle.link[next]`, but only on the configured server: a bearer token never goes to another origin.
 */
import type { Bundle, CapabilityStatement, Resource } from '@medplum/fhirtypes';
import type { FhirConnectorSettings } from '../../config-fhir-connector.js';
import {
  UpstreamCallPolicy,
  abortableSleep,
  parseRetryAfter,
  type CallMode,
} from '../upstream-call-policy.js';
import { UpstreamError } from '../upstream-error.js';
import { endpointTemplate, observed, type UpstreamObserver } from '../upstream-observer.js';
import { describe, readBody } from './fhir-answer.js';
import { FhirTokenSource, type FhirToken } from './fhir-token-source.js';
import { allPages } from '../all-pages.js';

export interface FhirClientOptions extends Omit<
  FhirConnectorSettings,
  'kind' | 'capabilities' | 'appointmentTypes'
> {
  /** Longest total wait for rate limits inside one call before giving up with `rate-limited`. */
  maxRateLimitWaitMs?: number;
  /** First backoff after a 429 without `Retry-After`; doubles each time. */
  rateLimitBackoffMs?: number;
  breakerThreshold?: number;
  breakerHalfOpenAfterMs?: number;
  now?: () => number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Told of every call (console and metrics, issue 15). */
  observe?: UpstreamObserver;
}

const FHIR_JSON = 'application/fhir+json';
/** A searchset bigger than this many pages is a loop or a misconfiguration, not a practice. */
const MAX_PAGES = 500;

export class FhirClient {
  private readonly base: URL;
  private readonly tokens: FhirTokenSource;
  private readonly policy: UpstreamCallPolicy;
  private readonly now: () => number;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Upstream calls made (token requests included): the benchmark's calls-per-minute figure. */
  calls = 0;

  constructor(private readonly options: FhirClientOptions) {
    this.base = new URL(`${options.baseUrl.replace(/\/+$/, '')}/`);
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? abortableSleep;
    this.tokens = new FhirTokenSource(
      options.auth,
      (form, headers) => this.tokenCall(form, headers),
      this.now,
    );
    this.policy = new UpstreamCallPolicy(options, 'upstream FHIR server');
  }

  /** The server's CapabilityStatement (`GET metadata`). */
  capabilityStatement(signal?: AbortSignal): Promise<CapabilityStatement> {
    return this.get<CapabilityStatement>(this.url('metadata'), signal);
  }

  /** One resource, or null when the server says it does not exist (404/410). */
  async read<T extends Resource>(
    type: T['resourceType'],
    id: string,
    signal?: AbortSignal,
  ): Promise<T | null> {
    try {
      return await this.get<T>(this.url(`${type}/${encodeURIComponent(id)}`), signal);
    } catch (err) {
      if (err instanceof UpstreamError && (err.kind === 'not-found' || err.status === 410)) return null;
      throw err;
    }
  }

  /** Every match of a search, following `next` links; `_count` is the configured page size. */
  search<T extends Resource>(
    type: T['resourceType'],
    params: ReadonlyArray<readonly [string, string]>,
    signal?: AbortSignal,
  ): Promise<T[]> {
    return this.searchAt<T>(type, type, params, signal);
  }

  /**
   * The `type` resources of a searchset answered at `path` (a search, or an operation that answers one, such as
   * `Appointment/$find`), following `next` links.
   */
  async searchAt<T extends Resource>(
    path: string,
    type: T['resourceType'],
    params: ReadonlyArray<readonly [string, string]>,
    signal?: AbortSignal,
  ): Promise<T[]> {
    return allPages(this.searchPages<T>(path, type, params, signal));
  }

  /**
   * {@link searchAt} page by page: each Bundle is fetched when the caller asks for the next page (by its `next`
   * link), so a caller can hold one page at a time. A page with no `type` match yields nothing.
   */
  async *searchPages<T extends Resource>(
    path: string,
    type: T['resourceType'],
    params: ReadonlyArray<readonly [string, string]>,
    signal?: AbortSignal,
  ): AsyncGenerator<T[]> {
    const url = this.url(path);
    for (const [name, value] of params) url.searchParams.append(name, value);
    if (!url.searchParams.has('_count')) url.searchParams.set('_count', String(this.options.pageSize));
    let next: URL | undefined = url;
    for (let page = 0; next; page++) {
      if (page >= MAX_PAGES)
        throw new UpstreamError('unavailable', `${type} search returned over ${MAX_PAGES} pages`);
      const bundle: Bundle = await this.get<Bundle>(next, signal);
      const link = bundle.link?.find((l) => l.relation === 'next')?.url;
      next = link ? this.sameServer(link) : undefined;
      const found: T[] = [];
      for (const entry of bundle.entry ?? []) {
        const resource = entry.resource;
        if (resource?.resourceType === type && entry.search?.mode !== 'include') found.push(resource as T);
      }
      if (found.length > 0) yield found;
    }
  }

  /** A write. Never retried except where the server certainly did not act (401 before renewal, 429). */
  write<T extends Resource>(
    method: 'POST' | 'PUT' | 'DELETE',
    path: string,
    body: Resource | undefined,
    signal?: AbortSignal,
  ): Promise<T> {
    return this.call<T>(method, this.url(path), body, signal, 'write');
  }

  close(): void {
    this.policy.close();
  }

  private get<T>(url: URL, signal: AbortSignal | undefined): Promise<T> {
    return this.policy.readRetry.execute(() => this.call<T>('GET', url, undefined, signal, 'read'));
  }

  private url(path: string): URL {
    return new URL(path, this.base);
  }

  private sameServer(link: string): URL {
    const url = new URL(link, this.base);
    if (url.origin !== this.base.origin || !url.pathname.startsWith(this.base.pathname)) {
      throw new UpstreamError('unavailable', `the server sent a next link outside its base: ${url.origin}`);
    }
    return url;
  }

  private call<T>(
    method: string,
    url: URL,
    body: Resource | undefined,
    callerSignal: AbortSignal | undefined,
    mode: CallMode,
  ): Promise<T> {
    const path = url.pathname.startsWith(this.base.pathname)
      ? `/${url.pathname.slice(this.base.pathname.length)}`
      : url.pathname;
    return observed(this.options.observe, endpointTemplate(method, path), () =>
      this.unobservedCall<T>(method, url, body, callerSignal, mode),
    );
  }

  private async unobservedCall<T>(
    method: string,
    url: URL,
    body: Resource | undefined,
    callerSignal: AbortSignal | undefined,
    mode: CallMode,
  ): Promise<T> {
    let renewed = false;
    let waitedMs = 0;
    let backoffMs = this.options.rateLimitBackoffMs ?? 1_000;
    for (;;) {
      const token = await this.tokens.get();
      const response = await this.send(url, method, token, body, callerSignal, mode);
      if (response.status === 401 && !renewed) {
        // Expired or revoked: refused before any effect, so sending it again is safe.
        renewed = true;
        await response.body?.cancel();
        this.tokens.invalidate(token);
        continue;
      }
      if (response.status === 429) {
        const retryAfter = parseRetryAfter(response.headers.get('retry-after'), this.now());
        await response.body?.cancel();
        const waitMs = retryAfter === undefined ? backoffMs : retryAfter * 1000;
        if (retryAfter === undefined) backoffMs *= 2;
        if (waitedMs + waitMs > (this.options.maxRateLimitWaitMs ?? 60_000)) {
          throw new UpstreamError('rate-limited', 'upstream FHIR server rate limit', {
            status: 429,
            retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)),
            outcome: 'not-applied',
          });
        }
        waitedMs += waitMs;
        await this.sleep(waitMs, this.policy.cancelled(callerSignal));
        continue;
      }
      return readBody<T>(response, method, url, mode);
    }
  }

  private async send(
    url: URL,
    method: string,
    token: FhirToken,
    body: Resource | undefined,
    callerSignal: AbortSignal | undefined,
    mode: CallMode,
  ): Promise<Response> {
    return this.policy.guarded(async () => {
      this.calls++;
      const response = await this.policy.fetch(
        url,
        {
          method,
          redirect: 'error',
          headers: {
            authorization: `Bearer ${token.accessToken}`,
            accept: FHIR_JSON,
            ...(body === undefined ? {} : { 'content-type': FHIR_JSON }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
        },
        mode,
        callerSignal,
      );
      if (response.status >= 500) {
        const detail = describe(await response.text().catch(() => ''));
        // 503 means the server refused the work; any other 5xx after a write was sent may follow a commit.
        throw new UpstreamError(
          'unavailable',
          `${method} ${url.pathname} failed with ${response.status}: ${detail}`,
          {
            status: response.status,
            outcome: mode === 'write' && response.status !== 503 ? 'unknown' : 'not-applied',
            retryAfterSeconds: parseRetryAfter(response.headers.get('retry-after'), this.now()),
          },
        );
      }
      return response;
    });
  }

  private tokenCall(form: URLSearchParams, headers: Record<string, string>): Promise<Response> {
    return this.policy.guarded(async () => {
      try {
        this.calls++;
        const response = await fetch(this.options.auth.tokenUrl, {
          method: 'POST',
          redirect: 'error',
          signal: this.policy.callSignal(),
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            accept: 'application/json',
            ...headers,
          },
          body: form,
        });
        if (response.status === 429 || response.status >= 500) {
          await response.body?.cancel();
          throw new UpstreamError('unavailable', `token endpoint answered ${response.status}`, {
            status: response.status,
            retryAfterSeconds: parseRetryAfter(response.headers.get('retry-after'), this.now()) ?? 1,
          });
        }
        return response;
      } catch (err) {
        if (err instanceof UpstreamError) throw err;
        throw new UpstreamError('unavailable', 'token endpoint unreachable', { cause: err });
      }
    });
  }
}
