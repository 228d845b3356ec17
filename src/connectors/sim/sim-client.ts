/**
 * HTTP client for the simulated records system's proprietary API (DESIGN.md section 2), with the etiquette any
 * real one needs (section 7): password-grant tokens refreshed on expiry or 401, a per-call timeout, a per-tenant
 * concurrency limit and circuit breaker (cockatiel), retries for reads only, and 429 → wait `Retry-After`.
 */
import {
  UpstreamCallPolicy,
  abortableSleep,
  parseRetryAfter,
  type CallMode,
} from '../upstream-call-policy.js';
import { UpstreamError, type WriteOutcome } from '../upstream-error.js';
import { endpointTemplate, observed, type UpstreamObserver } from '../upstream-observer.js';
import type { SimConnectorSettings } from '../../config.js';
import type { SimPage } from '../../sim/sim-types.js';
import { allPages } from '../all-pages.js';

/** The tenant's connector settings (`maxConcurrency` calls in flight; 4× that may queue, then fail fast), plus: */
export interface SimClientOptions extends Omit<SimConnectorSettings, 'kind'> {
  /** Longest `Retry-After` we wait out inside one call before giving up with `rate-limited`. */
  maxRateLimitWaitMs?: number;
  /** Consecutive failures (unavailable / timeout) that open the circuit. */
  breakerThreshold?: number;
  /** How long the circuit stays open before a trial call. */
  breakerHalfOpenAfterMs?: number;
  now?: () => number;
  /** How to wait out a `Retry-After`; tests advance a manual clock instead of sleeping. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Told of every call (console and metrics, issue 15). */
  observe?: UpstreamObserver;
}

type Query = Record<string, string | number | undefined>;

interface Token {
  accessToken: string;
  refreshToken: string | undefined;
  /** Epoch ms after which we refresh before calling. */
  refreshAt: number;
}

const PAGE_SIZE = 200;

export class SimClient {
  private readonly api: string;
  private readonly oauthUrl: string;
  private token: Token | undefined;
  private tokenInFlight: Promise<Token> | undefined;
  private readonly policy: UpstreamCallPolicy;
  private readonly now: () => number;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;

  constructor(private readonly options: SimClientOptions) {
    const firmUrl = `${options.baseUrl.replace(/\/+$/, '')}/firm/${encodeURIComponent(options.firm)}`;
    this.api = `${firmUrl}/api`;
    this.oauthUrl = `${firmUrl}/oauth/token`;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? abortableSleep;
    this.policy = new UpstreamCallPolicy(options, 'records system');
  }

  /** GET a JSON document. Retried on transport errors, timeouts and 5xx. */
  async get<T>(path: string, query: Query = {}, signal?: AbortSignal): Promise<T> {
    return this.policy.readRetry.execute(() => this.call<T>('GET', path, query, undefined, signal, 'read'));
  }

  /** GET every page of a paged listing. */
  async getAllPages<T>(path: string, query: Query = {}, signal?: AbortSignal): Promise<T[]> {
    return allPages(this.pages<T>(path, query, signal));
  }

  /** The pages of a paged listing, each read when the caller asks for it (an empty listing yields none). */
  async *pages<T>(path: string, query: Query = {}, signal?: AbortSignal): AsyncGenerator<T[]> {
    for (let page = 1; ; page++) {
      const body = await this.get<SimPage<T>>(path, { ...query, page, pageSize: PAGE_SIZE }, signal);
      if (body.items.length > 0) yield body.items;
      if (body.items.length === 0 || page * body.pageSize >= body.total) return;
    }
  }

  /** GET that answers null on 404. */
  async getOrNull<T>(path: string, signal?: AbortSignal): Promise<T | null> {
    try {
      return await this.get<T>(path, {}, signal);
    } catch (err) {
      if (err instanceof UpstreamError && err.kind === 'not-found') return null;
      throw err;
    }
  }

  /** A write. Never retried except where the system certainly did not act (401 before refresh, 429). */
  async write<T>(
    method: 'POST' | 'PUT' | 'DELETE',
    path: string,
    body?: unknown,
    signal?: AbortSignal,
  ): Promise<T> {
    return this.call<T>(method, path, {}, body, signal, 'write');
  }

  close(): void {
    this.policy.close();
  }

  private call<T>(
    method: string,
    path: string,
    query: Query,
    body: unknown,
    callerSignal: AbortSignal | undefined,
    mode: CallMode,
  ): Promise<T> {
    return observed(this.options.observe, endpointTemplate(method, path), () =>
      this.unobservedCall<T>(method, path, query, body, callerSignal, mode),
    );
  }

  private async unobservedCall<T>(
    method: string,
    path: string,
    query: Query,
    body: unknown,
    callerSignal: AbortSignal | undefined,
    mode: CallMode,
  ): Promise<T> {
    const url = new URL(`${this.api}${path}`);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, String(v));
    let refreshed = false;
    let waitedMs = 0;
    for (;;) {
      const token = await this.accessToken(callerSignal);
      const response = await this.send(url, method, token.accessToken, body, callerSignal, mode);
      if (response.status === 401 && !refreshed) {
        // Expired or revoked: the request was refused before any effect, so sending it again is safe.
        refreshed = true;
        this.invalidate(token);
        continue;
      }
      if (response.status === 429) {
        const retryAfterSeconds = parseRetryAfter(response.headers.get('retry-after'), this.now()) ?? 1;
        await response.body?.cancel();
        const waitMs = retryAfterSeconds * 1000;
        if (waitedMs + waitMs > (this.options.maxRateLimitWaitMs ?? 60_000)) {
          throw new UpstreamError(
            'rate-limited',
            `records system rate limit (retry after ${retryAfterSeconds}s)`,
            {
              status: 429,
              retryAfterSeconds,
              outcome: 'not-applied',
            },
          );
        }
        waitedMs += waitMs;
        await this.sleep(waitMs, this.policy.cancelled(callerSignal));
        continue;
      }
      return this.readBody<T>(response, method, path, mode);
    }
  }

  private async send(
    url: URL,
    method: string,
    accessToken: string,
    body: unknown,
    callerSignal: AbortSignal | undefined,
    mode: CallMode,
  ): Promise<Response> {
    return this.policy.guarded(async () => {
      const response = await this.policy.fetch(
        url,
        {
          method,
          redirect: 'error',
          headers: {
            authorization: `Bearer ${accessToken}`,
            accept: 'application/json',
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
        },
        mode,
        callerSignal,
      );
      // Thrown inside the policy so server errors count towards opening the circuit.
      if (response.status >= 500) throw await serverFailure(response, url, method, mode, this.now());
      return response;
    });
  }

  private async readBody<T>(response: Response, method: string, path: string, mode: CallMode): Promise<T> {
    // Read whole by the call policy: an answer cut off mid-body failed there, as `unavailable` or `timeout`.
    const text = await response.text();
    if (response.ok) {
      if (!text) return undefined as T;
      try {
        return JSON.parse(text) as T;
      } catch (cause) {
        throw new UpstreamError('unavailable', `records system sent malformed JSON for ${method} ${path}`, {
          status: response.status,
          outcome: mode === 'write' ? 'unknown' : 'not-applied',
          cause,
        });
      }
    }
    const status = response.status;
    const detail = describeError(text);
    if (status === 404) throw new UpstreamError('not-found', `${method} ${path}: not found`, { status });
    if (status === 401 || status === 403) {
      throw new UpstreamError('unauthorized', `records system refused our credentials: ${detail}`, {
        status,
      });
    }
    throw new UpstreamError('rejected', `${method} ${path} rejected: ${detail}`, {
      status,
      outcome: 'not-applied',
    });
  }

  private invalidate(token: Token): void {
    if (this.token === token) this.token = { ...token, refreshAt: 0 };
  }

  /** A valid access token, refreshing (or logging in again) when it is due. One refresh at a time. */
  private async accessToken(signal: AbortSignal | undefined): Promise<Token> {
    const current = this.token;
    if (current && current.refreshAt > this.now()) return current;
    this.tokenInFlight ??= this.obtainToken(current, signal).finally(() => {
      this.tokenInFlight = undefined;
    });
    return this.tokenInFlight;
  }

  private async obtainToken(current: Token | undefined, signal: AbortSignal | undefined): Promise<Token> {
    if (current?.refreshToken) {
      const refreshed = await this.tokenRequest(
        { grant_type: 'refresh_token', refresh_token: current.refreshToken },
        signal,
      ).catch((err: unknown) => {
        if (err instanceof UpstreamError && err.kind === 'unauthorized') return undefined;
        throw err;
      });
      if (refreshed) return (this.token = refreshed);
    }
    return (this.token = await this.tokenRequest(
      { grant_type: 'password', username: this.options.username, password: this.options.password },
      signal,
    ));
  }

  private async tokenRequest(form: Record<string, string>, signal: AbortSignal | undefined): Promise<Token> {
    for (let attempt = 0; ; attempt++) {
      const response = await this.policy.limited
        .execute(() =>
          fetch(this.oauthUrl, {
            method: 'POST',
            redirect: 'error',
            signal: this.policy.callSignal(signal),
            headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
            body: new URLSearchParams(form),
          }),
        )
        .catch((err: unknown) => {
          if (err instanceof UpstreamError) throw err;
          throw new UpstreamError('unavailable', 'records system token endpoint unreachable', { cause: err });
        });
      if (response.status === 429 && attempt < 3) {
        const seconds = parseRetryAfter(response.headers.get('retry-after'), this.now()) ?? 1;
        await response.body?.cancel();
        await this.sleep(seconds * 1000, this.policy.cancelled(signal));
        continue;
      }
      const text = await response.text().catch(() => '');
      if (response.status === 400 || response.status === 401) {
        throw new UpstreamError('unauthorized', `token request refused: ${describeError(text)}`, {
          status: response.status,
        });
      }
      if (!response.ok) {
        throw new UpstreamError('unavailable', `token request failed with ${response.status}`, {
          status: response.status,
        });
      }
      const body = JSON.parse(text) as { access_token: string; refresh_token?: string; expires_in?: number };
      const lifetimeMs = (body.expires_in ?? 300) * 1000;
      // Refresh a little early so a call never starts with a token about to lapse.
      return {
        accessToken: body.access_token,
        refreshToken: body.refresh_token,
        refreshAt: this.now() + Math.max(lifetimeMs - 15_000, lifetimeMs / 2),
      };
    }
  }
}

async function serverFailure(
  response: Response,
  url: URL,
  method: string,
  mode: CallMode,
  nowMs: number,
): Promise<UpstreamError> {
  const detail = describeError(await response.text().catch(() => ''));
  // 503 means the system refused the work; any other 5xx after a write was sent may follow a commit.
  const outcome: WriteOutcome = mode === 'write' && response.status !== 503 ? 'unknown' : 'not-applied';
  return new UpstreamError(
    'unavailable',
    `${method} ${url.pathname} failed with ${response.status}: ${detail}`,
    {
      status: response.status,
      outcome,
      retryAfterSeconds: parseRetryAfter(response.headers.get('retry-after'), nowMs),
    },
  );
}

function describeError(text: string): string {
  try {
    const body = JSON.parse(text) as { message?: string; error?: string };
    return body.message ?? body.error ?? text.slice(0, 200);
  } catch {
    return text.slice(0, 200) || '(no body)';
  }
}
