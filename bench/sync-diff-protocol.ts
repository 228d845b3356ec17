/** What `sync-diff.bench.ts` asks of `sync-diff-worker.ts`, and what the worker answers. */

export interface WorkerTask {
  /** `load`: migrate and write the baseline (no journal); `pass`: one ordinary (diffing) pass. */
  mode: 'load' | 'pass';
  /** Which state the changing 1 % is in. */
  variant: 'a' | 'b';
  url: string;
  /** PostgreSQL schema. */
  schema?: string;
  /**
   * `pages` (default): the records are handed to the pass as pages of 1,000, each built when the pass asks for it,
   * as a records system lists a window; `whole`: all 100,000 are built before the pass (as measured until issue 16).
   */
  input?: 'pages' | 'whole';
  /** After the measured pass, time its steps one by one. */
  breakdown?: boolean;
}

/** Milliseconds per step of a pass over all the records (mapping and hashing scaled up from a sample). */
export interface PassBreakdown {
  /** `resolveFhirIds`: upstream ids → FHIR ids (reads only once every id is mapped). */
  resolveMs: number;
  /** `toFhir` (the sim connector's `mapAppointment`) of every record. */
  mapMs: number;
  /** `contentHash` of every mapped resource. */
  hashMs: number;
  /** `currentHashes` of the pass's scope. */
  currentHashesMs: number;
}

export interface WorkerReport {
  /** Wall time of the one `applyRecords` call. */
  wallMs: number;
  /** RSS of the worker before it built anything (Node, tsx and the modules loaded). */
  rssAtStartMb: number;
  /** RSS just before the pass (with input `whole`: once the 100,000 records were built). */
  rssBeforeMb: number;
  /** Highest RSS sampled every 5 ms while the pass awaited the database (misses purely synchronous stretches). */
  sampledPeakRssMb: number;
  /** Peak RSS of the worker process over its life (input records + the pass): `resourceUsage().maxRSS`. */
  maxRssMb: number;
  records: number;
  /** Versions written. */
  written: number;
  unchanged: number;
  deleted: number;
  /** Change-journal rows written. */
  events: number;
  breakdown?: PassBreakdown;
}
