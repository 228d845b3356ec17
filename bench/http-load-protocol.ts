/** What `http-load.ts` asks of `http-load-worker.ts` (the load generator process), and what it answers. */

/** One logical request a load worker repeats. */
export type LoadRequest =
  /** A GET with fixed headers; 200 counts as success. */
  | { kind: 'get'; url: string; headers: Record<string, string> }
  /**
   * What an agent without Switchboard does per question: a password-grant token from the records system, then the
   * GETs it needs with that token, in parallel. Succeeds when every call answers 200.
   */
  | { kind: 'token-then-gets'; tokenUrl: string; form: Record<string, string>; urls: string[] };

export interface LoadTask {
  /** Echoed in the report. */
  id: number;
  /** Requests, taken in turn by the workers. */
  requests: LoadRequest[];
  /** Concurrent workers, each one request at a time on its own keep-alive connection. */
  concurrency: number;
  /** Requests before this are run but not counted (JIT, connection set-up). */
  warmupMs: number;
  /** How long to count after the warm-up. */
  durationMs: number;
  /** Hard cap on requests started (warm-up included). */
  maxRequests: number;
}

export interface LoadReport {
  id: number;
  /** Requests that started after the warm-up and finished before the end, successful or not. */
  completed: number;
  /** Of those, the failures (a status other than 200, or a transport error). */
  errors: number;
  /** HTTP status (or `error`) → count, over the counted requests. */
  statuses: Record<string, number>;
  firstError?: string;
  /** The counted window: from the end of the warm-up to the last counted completion (or the end). */
  elapsedMs: number;
  /** Latency of every successful counted request, in ms. */
  latenciesMs: number[];
  /** Every request that finished, warm-up and stragglers included (for cost per request over the whole task). */
  total: number;
  /** Bytes of the last successful response body (the last call's, for `token-then-gets`). */
  bodyBytes: number;
}
