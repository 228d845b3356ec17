/**
 * Request limits of the FHIR facade (DESIGN.md section 7; reliability.md section 3, OWASP API4 "unrestricted
 * resource consumption"):
 * - {@link createJsonBodyParser}: JSON bodies only up to a size, a nesting depth and a string length, checked on
 *   the raw text by an iterative scan BEFORE `JSON.parse` or any recursive walk (a recursive walker throws
 *   RangeError at depth 10,000: reliability.md section 3);
 * - {@link createRateLimiter}: a limit per (tenant, client) counted by rate-limiter-flexible (in the shared store
 *   with several instances), answering 429 with `Retry-After` and the `RateLimit-*` headers.
 * Both throw {@link FhirError}s for the router's one error renderer; neither keeps module-level state.
 */
import express, { type Request, type RequestHandler, type Response } from 'express';
import { RateLimiterMemory, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { requestClient } from './auth-middleware.js';
import { FhirError, operationOutcome } from './operation-outcome.js';

/** The media types whose bodies are parsed as JSON. */
export const JSON_BODY_TYPES: readonly string[] = Object.freeze([
  'application/fhir+json',
  'application/json',
  'application/json-patch+json',
]);

/** Defaults from reliability.md section 3 ("Body limits"). */
export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;
export const DEFAULT_MAX_JSON_DEPTH = 64;
export const DEFAULT_MAX_JSON_STRING_LENGTH = 64 * 1024;

export interface JsonBodyOptions {
  /** Largest accepted body in bytes, after any Content-Encoding is undone; default 1 MiB. */
  limitBytes?: number;
  /** Deepest accepted nesting of objects and arrays; default 64. */
  maxDepth?: number;
  /** Longest accepted JSON string, in UTF-16 code units as written (escapes count as written); default 64 Ki. */
  maxStringLength?: number;
}

/** What is wrong with a JSON text's shape, or undefined if its depth and strings are within the limits. */
export type JsonShapeProblem =
  { kind: 'too-deep'; maxDepth: number } | { kind: 'string-too-long'; maxStringLength: number };

/**
 * Scans JSON text once, without recursion and without parsing, for nesting deeper than `maxDepth` and strings
 * longer than `maxStringLength`. Brackets inside strings do not count. Malformed text is not judged here
 * (`JSON.parse` does that next); the scan only has to be safe on any input.
 */
export function checkJsonShape(
  text: string,
  limits: { maxDepth: number; maxStringLength: number },
): JsonShapeProblem | undefined {
  let depth = 0;
  let inString = false;
  let stringStart = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c /* \ */) {
        i++;
      } else if (ch === 0x22 /* " */) {
        inString = false;
        if (i - stringStart - 1 > limits.maxStringLength) {
          return { kind: 'string-too-long', maxStringLength: limits.maxStringLength };
        }
      }
      continue;
    }
    switch (ch) {
      case 0x22:
        inString = true;
        stringStart = i;
        break;
      case 0x5b /* [ */:
      case 0x7b /* { */:
        depth++;
        if (depth > limits.maxDepth) return { kind: 'too-deep', maxDepth: limits.maxDepth };
        break;
      case 0x5d /* ] */:
      case 0x7d /* } */:
        if (depth > 0) depth--;
        break;
      default:
        break;
    }
  }
  // An unterminated string: JSON.parse rejects it, but its length is still bounded by the limit.
  if (inString && text.length - stringStart - 1 > limits.maxStringLength) {
    return { kind: 'string-too-long', maxStringLength: limits.maxStringLength };
  }
  return undefined;
}

/**
 * Parses `application/fhir+json`, `application/json` and `application/json-patch+json` bodies into `req.body`;
 * other requests pass untouched (`req.body` stays undefined), as do JSON requests with an empty body.
 * Answers 413 `too-costly` over the size limit (checked against Content-Length before reading, and while reading),
 * 400 `too-costly` for nesting or strings over the limits, 400 `invalid` for malformed JSON (never the parser's
 * message, which quotes the body), 415 `not-supported` for an unknown charset or content encoding.
 * Mount after authentication, so anonymous bodies are never read: `router.use('/:tenant', auth, limiter, json)`.
 *
 * @see https://owasp.org/API-Security/editions/2023/en/0xa4-unrestricted-resource-consumption/
 */
export function createJsonBodyParser(options: JsonBodyOptions = {}): RequestHandler {
  const limitBytes = positiveInteger(options.limitBytes ?? DEFAULT_BODY_LIMIT_BYTES, 'limitBytes');
  const maxDepth = positiveInteger(options.maxDepth ?? DEFAULT_MAX_JSON_DEPTH, 'maxDepth');
  const maxStringLength = positiveInteger(
    options.maxStringLength ?? DEFAULT_MAX_JSON_STRING_LENGTH,
    'maxStringLength',
  );
  // body-parser reads the stream: limit while reading, Content-Length mismatch, gzip/deflate/br with the limit on
  // the inflated size, charset decoding, and draining an oversized body before answering so the client sees 413.
  const readText = express.text({ type: [...JSON_BODY_TYPES], limit: limitBytes, defaultCharset: 'utf-8' });
  return (req, res, next) => {
    readText(req, res, (err?: unknown) => {
      if (err !== undefined && err !== null) {
        next(bodyReadError(err, limitBytes));
        return;
      }
      const text: unknown = req.body;
      if (typeof text !== 'string') {
        next();
        return;
      }
      if (text.trim() === '') {
        req.body = undefined;
        next();
        return;
      }
      const problem = checkJsonShape(text, { maxDepth, maxStringLength });
      if (problem) {
        req.body = undefined;
        next(
          problem.kind === 'too-deep'
            ? FhirError.of(
                400,
                'too-costly',
                `request body nests objects or arrays deeper than ${problem.maxDepth} levels`,
                { detailCode: 'json-too-deep' },
              )
            : FhirError.of(
                400,
                'too-costly',
                `request body has a string longer than ${problem.maxStringLength} characters`,
                { detailCode: 'json-string-too-long' },
              ),
        );
        return;
      }
      try {
        req.body = JSON.parse(text) as unknown;
      } catch (parseError) {
        req.body = undefined;
        next(FhirError.of(400, 'invalid', `request body is not valid JSON${positionOf(parseError)}`));
        return;
      }
      next();
    });
  };
}

export interface RateLimitOptions {
  /** Requests per second a client may sustain, per (tenant, client); default 20. */
  ratePerSecond?: number;
  /** The most requests a rested client may send at once; default 40. */
  burst?: number;
  /**
   * Where the counts live, given the window's points and length: the store's shared table with several instances
   * (`src/store/shared-rate-limits.ts`). Called once, at the first limited request (the store opens after the
   * routes are built). Default: this process's memory.
   */
  backend?: (options: { points: number; durationSeconds: number; keyPrefix: string }) => RateLimiterAbstract;
}

/** The outcome of one {@link RateLimiter.take}. */
export interface RateLimitDecision {
  allowed: boolean;
  /** `RateLimit-Limit`: requests per window. */
  limit: number;
  /** `RateLimit-Remaining`: requests left in this window. */
  remaining: number;
  /** `RateLimit-Reset`: whole seconds until the window resets. */
  resetSeconds: number;
  /** `Retry-After` when refused: whole seconds (at least 1) until a request fits. */
  retryAfterSeconds: number;
}

/**
 * A request's pass through the limiter, begun: {@link RateLimiter.admission}. `verdict` resolves (never rejects)
 * once the count has answered, the `RateLimit-*` headers then set on the response: undefined when admitted, else
 * what to answer instead (the 429 FhirError, or the counter's own failure). While it is pending, `early` says
 * whether the request may already run.
 */
export interface Admission {
  early: boolean;
  verdict: Promise<unknown>;
}

export interface RateLimiter {
  /** Counts one request of `key` if it fits. */
  take(key: string): Promise<RateLimitDecision>;
  /**
   * Counts an authenticated request (one without a client passes at once). A read (GET, HEAD) of a client whose
   * last count left at least a quarter of its burst may run while the count is on its way (`early`): with the
   * counters in PostgreSQL that count is a round trip, and the read's own work overlaps it instead of following
   * it. Whoever runs a request early must not write for it nor answer it before the verdict: the FHIR handler
   * awaits it before its audit record and its answer (`FhirRequest.admission`). A client near or over its limit
   * waits, so a refused client's reads are not worked on.
   */
  admission(req: Request, res: Response): Admission;
  /**
   * Limits authenticated requests per (tenant, client) (requests without a client, i.e. public `metadata`, pass);
   * sets the `RateLimit-*` headers on every limited response. Mount after the auth middleware, on the tenant
   * segment: `router.use('/:tenant', auth, limiter.middleware)`.
   */
  readonly middleware: RequestHandler;
}

/** Keys whose last count {@link RateLimiter.admission} remembers: far more than a deployment's (tenant, client)s. */
const MAX_KEYS_REMEMBERED = 10_000;

/** Defaults of {@link createRateLimiter}. */
export const DEFAULT_RATE_PER_SECOND = 20;
export const DEFAULT_RATE_BURST = 40;

/**
 * A per-(tenant, client) limiter over rate-limiter-flexible: `burst` requests per window of `burst / ratePerSecond`
 * seconds, so a client sustains `ratePerSecond` and a rested one may send `burst` at once. With a shared backend
 * every instance counts against the same window (issue 11: N instances no longer allow N times the rate).
 *
 * @see https://datatracker.ietf.org/doc/draft-ietf-httpapi-ratelimit-headers/ and RFC 6585 section 4
 */
export function createRateLimiter(options: RateLimitOptions = {}): RateLimiter {
  const rate = options.ratePerSecond ?? DEFAULT_RATE_PER_SECOND;
  if (!(rate > 0) || !Number.isFinite(rate)) throw new RangeError('ratePerSecond must be a positive number');
  const burst = positiveInteger(options.burst ?? DEFAULT_RATE_BURST, 'burst');
  const window = { points: burst, durationSeconds: burst / rate, keyPrefix: 'fhir-client' };
  let limiter: RateLimiterAbstract | undefined;
  const backend = (): RateLimiterAbstract =>
    (limiter ??= options.backend
      ? options.backend(window)
      : new RateLimiterMemory({
          points: window.points,
          duration: window.durationSeconds,
          keyPrefix: window.keyPrefix,
        }));

  const decision = (allowed: boolean, res: RateLimiterRes): RateLimitDecision => {
    const seconds = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
    return {
      allowed,
      limit: burst,
      remaining: Math.max(0, res.remainingPoints),
      resetSeconds: seconds,
      retryAfterSeconds: allowed ? 0 : seconds,
    };
  };

  const take = async (key: string): Promise<RateLimitDecision> => {
    try {
      return decision(true, await backend().consume(key));
    } catch (rejection) {
      // Rejected with a RateLimiterRes: over the limit. Anything else is the library's own failure: let it surface.
      if (rejection instanceof RateLimiterRes) return decision(false, rejection);
      throw rejection;
    }
  };

  /** Each key's `remaining` at its last count, for {@link Admission.early}; the least recently counted go first. */
  const lastRemaining = new Map<string, number>();
  const count = async (key: string, res: Response): Promise<FhirError | undefined> => {
    const verdict = await take(key);
    lastRemaining.delete(key);
    lastRemaining.set(key, verdict.allowed ? verdict.remaining : 0);
    if (lastRemaining.size > MAX_KEYS_REMEMBERED)
      lastRemaining.delete(lastRemaining.keys().next().value as string);
    const headers: Record<string, string> = {
      'RateLimit-Limit': String(verdict.limit),
      'RateLimit-Remaining': String(verdict.remaining),
      'RateLimit-Reset': String(verdict.resetSeconds),
    };
    if (verdict.allowed) {
      res.set(headers);
      return undefined;
    }
    return new FhirError(
      429,
      operationOutcome(
        'throttled',
        `too many requests from this client; retry after ${verdict.retryAfterSeconds} s`,
        { detailCode: 'rate-limited' },
      ),
      { ...headers, 'Retry-After': String(verdict.retryAfterSeconds) },
    );
  };

  const admission = (req: Request, res: Response): Admission => {
    const client = requestClient(req);
    if (!client) return { early: false, verdict: Promise.resolve(undefined) };
    const key = `${tenantOf(req)}/${client.id}`;
    const early =
      (req.method === 'GET' || req.method === 'HEAD') && (lastRemaining.get(key) ?? 0) >= burst / 4;
    // A failure of the count is answered like a refusal, as the error it is (a 500).
    return {
      early,
      verdict: count(key, res).catch((error: unknown) => error ?? new Error('rate limit count failed')),
    };
  };

  const middleware: RequestHandler = async (req, res, next) => {
    const refusal = await admission(req, res).verdict;
    if (refusal !== undefined) throw refusal;
    next();
  };

  return { take, admission, middleware };
}

function tenantOf(req: Request): string {
  const param = (req.params as Record<string, string | undefined>).tenant;
  return param ?? /^\/([^/]+)/.exec(req.path)?.[1] ?? '';
}

function bodyReadError(err: unknown, limitBytes: number): unknown {
  const status = (err as { status?: unknown }).status;
  if (typeof status !== 'number' || status >= 500) return err;
  if (status === 413) {
    return FhirError.of(413, 'too-costly', `request body is larger than ${limitBytes} bytes`, {
      detailCode: 'body-too-large',
    });
  }
  if (status === 415) {
    return FhirError.of(415, 'not-supported', 'request body charset or content encoding is not supported');
  }
  return FhirError.of(400, 'invalid', 'request body could not be read');
}

/** " (at position N)" from a JSON.parse error, without the text excerpt newer V8 versions quote. */
function positionOf(error: unknown): string {
  const match = /position (\d+)/.exec(error instanceof Error ? error.message : '');
  return match ? ` (at position ${match[1]})` : '';
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer`);
  return value;
}
