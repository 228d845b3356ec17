/**
 * What a benchmark file exports for `bench/run.ts` (DESIGN.md section 8: performance is measured by benchmarks that
 * print figures and record them in BENCHMARKS.md, never by timed assertions in tests).
 */

/** One row of a result table. */
export interface Figure {
  figure: string;
  value: string;
  /** The aim the issue set, when there is one. */
  aim?: string;
  /** Whether the value meets the aim; absent when there is no aim. */
  met?: boolean;
}

/** A table of figures, e.g. one per database dialect. */
export interface FigureTable {
  caption: string;
  figures: Figure[];
}

export interface BenchmarkResult {
  tables: FigureTable[];
  /** One line on how noisy the figures are and how they were summarised. */
  noise: string;
  /** Anything else worth keeping next to the figures (method, caveats, where the time goes). */
  notes: string[];
}

export interface Benchmark {
  /** Short name, as given to `npm run bench -- <name>`. */
  name: string;
  title: string;
  /** Runs the benchmark, printing progress and figures through `log`, and returns what to record. */
  run(log: (line: string) => void): Promise<BenchmarkResult>;
}
