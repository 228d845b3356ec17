/**
 * One pass of the sync-diff benchmark in a process of its own, so that the process's peak RSS
 * (`process.resourceUsage().maxRSS`) belongs to that pass alone: the worker runs ONE `applyRecords` over the 100,000
 * records — handed over in pages built as the pass asks for them, or (input `production`) read by the sync engine's
 * window pass through the connector port — and reports wall time, RSS and what was written to its parent over IPC.
 *
 * Started by `sync-diff.bench.ts` with `fork()`; the argument is a JSON {@link WorkerTask}.
 */
import { performance } from 'node:perf_hooks';
import type { Appointment } from '@medplum/fhirtypes';
import type { UpstreamRecord } from '../src/connectors/connector.js';
import { resolveFhirIds } from '../src/connectors/resolve-fhir-ids.js';
import { contentHash } from '../src/store/content-hash.js';
import type { Store } from '../src/store/database.js';
import { openStore } from '../src/store/database.js';
import { migrateToLatest } from '../src/store/migrate.js';
import { idsInScope } from '../src/store/scope-ids.js';
import { storedSourceHashes } from '../src/store/stored-source-hashes.js';
import { APPLY_PAGE_SIZE, applyRecords } from '../sync/apply-records.js';
import type { PassBreakdown, WorkerReport, WorkerTask } from './sync-diff-protocol.js';
import {
  CHANGE_EVERY,
  DEFAULT_SYNTHETIC,
  SYNTHETIC_TENANT,
  syntheticAppointmentPages,
  syntheticScope,
  type SyntheticOptions,
} from './synthetic-appointments.js';
import { syntheticWindowPass } from './synthetic-window-pass.js';

const MB = 1024 * 1024;

async function timed<T>(fn: () => T | Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await fn();
  return { ms: performance.now() - started, value };
}

/**
 * Where a pass's time goes: its steps re-run one by one after the measured pass, with the same functions
 * `applyRecords` calls (the JIT is warm by then, so the parts tend to add up to less than the pass).
 */
async function breakdown(store: Store, options: SyntheticOptions): Promise<PassBreakdown> {
  const pages: UpstreamRecord<Appointment>[][] = [];
  const build = await timed(async () => {
    for await (const page of syntheticAppointmentPages(options, APPLY_PAGE_SIZE)) pages.push(page);
  });
  const lookup = await timed(async () => {
    for (const page of pages) {
      await storedSourceHashes(
        store,
        SYNTHETIC_TENANT,
        'Appointment',
        page.map((r) => r.upstreamId),
      );
    }
  });
  const scope = await timed(() => idsInScope(store, SYNTHETIC_TENANT, 'Appointment', syntheticScope()));
  // The 1 % a pass maps: every CHANGE_EVERY-th record.
  const changed = pages.flat().filter((_, i) => i % CHANGE_EVERY === 0);
  const resolve = await timed(() => resolveFhirIds(store, SYNTHETIC_TENANT, changed));
  const mapped = await timed(() => changed.map((r) => contentHash(r.toFhir(resolve.value))));
  return {
    buildMs: build.ms,
    lookupMs: lookup.ms,
    scopeIdsMs: scope.ms,
    changedMs: resolve.ms + mapped.ms,
  };
}

async function main(task: WorkerTask): Promise<WorkerReport> {
  const rssAtStartMb = process.memoryUsage.rss() / MB;
  const store = await openStore(task.url, task.schema === undefined ? {} : { schema: task.schema });
  try {
    if (task.mode === 'load') await migrateToLatest(store);
    const options = { ...DEFAULT_SYNTHETIC, variant: task.variant };
    const rssBeforeMb = process.memoryUsage.rss() / MB;
    // Samples land only when the pass awaits the database; maxRSS below is the exact peak.
    let sampledPeak = rssBeforeMb;
    const sampler = setInterval(() => {
      sampledPeak = Math.max(sampledPeak, process.memoryUsage.rss() / MB);
    }, 5);
    const started = performance.now();
    const result =
      task.input === 'production'
        ? await syntheticWindowPass(store, options)
        : await applyRecords(
            store,
            SYNTHETIC_TENANT,
            [
              {
                resourceType: 'Appointment',
                records: syntheticAppointmentPages(options, APPLY_PAGE_SIZE),
                scope: syntheticScope(),
                vanished: 'delete',
              },
            ],
            { baseline: task.mode === 'load' },
          );
    // As the sync engine does after a pass that wrote this much (sync-engine.ts): the planner sees the loaded tables
    // before the passes measured next. Without it PostgreSQL, its autovacuum off or not caught up yet, plans the
    // skip lookup's join as a nested loop over every stored row (a 1 % pass ran past the worker's 5 minutes).
    if (task.mode === 'load') await store.analyze();
    const wallMs = performance.now() - started;
    clearInterval(sampler);
    const maxRssMb = (process.resourceUsage().maxRSS * 1024) / MB;
    return {
      wallMs,
      rssAtStartMb,
      rssBeforeMb,
      sampledPeakRssMb: Math.max(sampledPeak, process.memoryUsage.rss() / MB),
      // resourceUsage().maxRSS is in kilobytes; read before the breakdown allocates anything.
      maxRssMb,
      records: DEFAULT_SYNTHETIC.appointments,
      written: result.written,
      unchanged: result.unchanged,
      deleted: result.deleted,
      events: result.events,
      ...(task.breakdown ? { breakdown: await breakdown(store, options) } : {}),
    };
  } finally {
    await store.close();
  }
}

const task = JSON.parse(process.argv[2] ?? '{}') as WorkerTask;
main(task).then(
  (report) => process.send?.(report, () => process.exit(0)),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
