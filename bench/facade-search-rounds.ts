/**
 * The measured runs of the facade-search benchmark (facade-search.bench.ts): one search's targets in interleaved
 * loaded rounds, then each alone on one connection, and with `BENCH_CPU_PROF` one profiled Switchboard run apart
 * from them; and the switch that lets the `unaudited` target's requests skip the audit write.
 */
import type { AuditTrail } from '../src/audit/audit-trail.js';
import {
  CONCURRENCY,
  LOADED_TARGETS,
  ROUNDS,
  SERIAL_TARGETS,
  type Measured,
  type Search,
  type SerialTarget,
  type Target,
} from './facade-search-figures.js';
import { summarize, type LoadGenerator, type LoadSummary } from './http-load.js';
import { shareOfFiles, startInProcessProfile, writeProfile } from './in-process-profile.js';

export const ROUND_MS = 3_000;
export const WARMUP_MS = 500;
const SERIAL_MS = 1_500;
export const MAX_REQUESTS_PER_RUN = 200_000;
/** With `BENCH_CPU_PROF`: how long the extra, profiled Switchboard run of each search lasts. */
export const PROFILED_MS = 3_000;
/** Where the audit write path lives: what the profile-attributed share counts. */
const AUDIT_FILES = ['/src/audit/audit-trail.ts', '/src/store/audit-rows.ts'];

/** Lets the `unaudited` target's requests skip the audit write (bench only; see `AppOptions.wrapAuditTrail`). */
export interface AuditSwitch {
  wrap(trail: AuditTrail): AuditTrail;
  skip: boolean;
}

export function auditSwitch(): AuditSwitch {
  const control: AuditSwitch = {
    skip: false,
    wrap: (trail) => ({
      record: (ctx, record) => (control.skip ? Promise.resolve() : trail.record(ctx, record)),
    }),
  };
  return control;
}

/** The figures of `search` against every target, measured in the same run. */
export async function measure(
  load: LoadGenerator,
  search: Search,
  audit: AuditSwitch,
  profile: { dir: string; name: string } | undefined,
  log: (line: string) => void,
): Promise<Measured> {
  const rounds = Object.fromEntries(LOADED_TARGETS.map((t) => [t, []])) as unknown as Record<
    Target,
    Awaited<ReturnType<LoadGenerator['run']>>[]
  >;
  const cpu = Object.fromEntries(LOADED_TARGETS.map((t) => [t, 0])) as Record<Target, number>;
  for (let round = 0; round < ROUNDS; round++) {
    // Rotate the order so no target always runs first (or right after the heaviest one).
    for (let i = 0; i < LOADED_TARGETS.length; i++) {
      const target = LOADED_TARGETS[(i + round) % LOADED_TARGETS.length] as Target;
      audit.skip = target === 'unaudited';
      const cpuBefore = process.cpuUsage();
      const report = await load
        .run({
          requests: search.requests[target],
          concurrency: CONCURRENCY,
          warmupMs: WARMUP_MS,
          durationMs: ROUND_MS,
          maxRequests: MAX_REQUESTS_PER_RUN,
        })
        .finally(() => (audit.skip = false));
      const used = process.cpuUsage(cpuBefore);
      cpu[target] += (used.user + used.system) / 1000;
      rounds[target].push(report);
      const s = summarize([report]);
      log(
        `${search.name} round ${round + 1} ${target}: ${Math.round(s.throughput)} req/s, p50 ${s.p50.toFixed(2)} ms, ` +
          `p99 ${s.p99.toFixed(2)} ms${s.errors > 0 ? `, ${s.errors} errors (${s.firstError})` : ''}`,
      );
    }
  }
  const serial = {} as Record<SerialTarget, LoadSummary>;
  for (const target of SERIAL_TARGETS) {
    serial[target] = summarize([
      await load.run({
        requests: search.requests[target],
        concurrency: 1,
        warmupMs: 200,
        durationMs: SERIAL_MS,
        maxRequests: MAX_REQUESTS_PER_RUN,
      }),
    ]);
    log(
      `${search.name} one connection ${target}: p50 ${serial[target].p50.toFixed(2)} ms, p99 ${serial[target].p99.toFixed(2)} ms`,
    );
  }
  const loaded = Object.fromEntries(
    LOADED_TARGETS.map((target) => [
      target,
      {
        ...summarize(rounds[target]),
        cpuMsPerRequest: cpu[target] / rounds[target].reduce((n, r) => n + r.total, 0),
      },
    ]),
  ) as Record<Target, LoadSummary>;
  let profiledAuditShare: number | undefined;
  if (profile) {
    // Apart from the measured rounds, so the profiler's own cost is in no figure but this one.
    const profiler = await startInProcessProfile();
    await load.run({
      requests: search.requests.switchboard,
      concurrency: CONCURRENCY,
      warmupMs: 0,
      durationMs: PROFILED_MS,
      maxRequests: MAX_REQUESTS_PER_RUN,
    });
    const taken = await profiler.stop();
    profiledAuditShare = shareOfFiles(taken, AUDIT_FILES);
    log(`${search.name} profile: ${await writeProfile(profile.dir, profile.name, taken)}`);
  }
  return { loaded, serial, ...(profiledAuditShare === undefined ? {} : { profiledAuditShare }) };
}
