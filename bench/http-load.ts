/**
 * Closed-loop HTTP load from a separate process (`http-load-worker.ts`), and the summary of one run: throughput
 * and latency percentiles. The server under test keeps its own event loop; the load generator gets the other core.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadReport, LoadTask } from './http-load-protocol.js';
import { percentile } from './stats.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..');
/** Longest a task may run past its own duration before the generator is considered stuck. */
const TASK_GRACE_MS = 30_000;

export interface LoadGenerator {
  run(task: Omit<LoadTask, 'id'>): Promise<LoadReport>;
  close(): Promise<void>;
}

export async function startLoadGenerator(): Promise<LoadGenerator> {
  const child: ChildProcess = fork(join(HERE, 'http-load-worker.ts'), [], {
    cwd: ROOT,
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the load generator did not start')), 30_000);
    child.once('message', () => {
      clearTimeout(timer);
      resolve();
    });
    child.once('exit', (code) => reject(new Error(`the load generator exited with ${code}`)));
  });
  let nextId = 1;
  return {
    run(spec) {
      const task: LoadTask = { id: nextId++, ...spec };
      return new Promise<LoadReport>((resolve, reject) => {
        const timer = setTimeout(
          () => {
            child.off('message', onMessage);
            reject(new Error(`load task ${task.id} did not finish`));
          },
          task.warmupMs + task.durationMs + TASK_GRACE_MS,
        );
        const onMessage = (message: unknown) => {
          const report = message as LoadReport;
          if (report.id !== task.id) return;
          clearTimeout(timer);
          child.off('message', onMessage);
          resolve(report);
        };
        child.on('message', onMessage);
        child.send(task);
      });
    },
    async close() {
      if (!exited) {
        child.disconnect();
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exit;
        clearTimeout(timer);
      }
    },
  };
}

/** One or more load runs of the same target, pooled. */
export interface LoadSummary {
  /** Successful requests per second of each run. */
  throughputs: number[];
  /** Median of {@link throughputs}. */
  throughput: number;
  p50: number;
  p99: number;
  requests: number;
  errors: number;
  statuses: Record<string, number>;
  firstError?: string;
  bodyBytes: number;
  /** CPU time of the server process per request (user + system), when measured. */
  cpuMsPerRequest?: number;
}

export function summarize(reports: readonly LoadReport[]): LoadSummary {
  const latencies = reports.flatMap((r) => r.latenciesMs);
  const throughputs = reports.map((r) =>
    r.elapsedMs > 0 ? ((r.completed - r.errors) * 1000) / r.elapsedMs : 0,
  );
  const statuses: Record<string, number> = {};
  for (const r of reports)
    for (const [status, n] of Object.entries(r.statuses)) statuses[status] = (statuses[status] ?? 0) + n;
  const firstError = reports.find((r) => r.firstError !== undefined)?.firstError;
  return {
    throughputs,
    throughput: percentile(throughputs, 50),
    p50: latencies.length > 0 ? percentile(latencies, 50) : NaN,
    p99: latencies.length > 0 ? percentile(latencies, 99) : NaN,
    requests: reports.reduce((n, r) => n + r.completed, 0),
    errors: reports.reduce((n, r) => n + r.errors, 0),
    statuses,
    ...(firstError === undefined ? {} : { firstError }),
    bodyBytes: reports.at(-1)?.bodyBytes ?? 0,
  };
}
