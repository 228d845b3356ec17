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
   * `pages` (default): the records are handed to `applyRecords` as pages of 1,000, each built when the pass asks for
   * it; `production`: the sync engine's window pass (`runPass`) reads them through the connector port's paged
   * window read, in the sim connector's pages of 200, as a tenant's hot window.
   */
  input?: 'pages' | 'production';
  /** After the measured pass, time its steps one by one. */
  breakdown?: boolean;
}

/** Milliseconds per step of a 1 % pass over all the records, each step re-run alone after the pass. */
export interface PassBreakdown {
  /** Building the 100,000 records page by page (the raw rows and their source hashes). */
  buildMs: number;
  /** `storedSourceHashes` of every page: the stored source hash and FHIR id by upstream id (the skip lookup). */
  lookupMs: number;
  /** `idsInScope` of the window (delete-by-absence). */
  scopeIdsMs: number;
  /** `resolveFhirIds`, `toFhir` and `contentHash` of the 1,000 changed records. */
  changedMs: number;
}

export interface WorkerReport {
  /** Wall time of the one `applyRecords` call. */
  wallMs: number;
  /** RSS of the worker before it built anything (Node, tsx and the modules loaded). */
  rssAtStartMb: number;
  /** RSS just before the pass. */
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
