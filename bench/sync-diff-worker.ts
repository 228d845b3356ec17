/**
 * One pass of the sync-diff benchmark in a process of its own, so that the process's peak RSS
 * (`process.resourceUsage().maxRSS`) belongs to that pass alone: the worker runs ONE `applyRecords` over the 100,000
 * records — handed over in pages built as the pass asks for them, or (input `whole`) all built beforehand, not
 * timed — and reports wall time, RSS and what was written to its parent over IPC.
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
import { currentHashes } from '../src/store/resource-store.js';
import { APPLY_PAGE_SIZE, applyRecords } from '../sync/apply-records.js';
import type { PassBreakdown, WorkerReport, WorkerTask } from './sync-diff-protocol.js';
import {
  DEFAULT_SYNTHETIC,
  SYNTHETIC_TENANT,
  syntheticAppointmentPages,
  syntheticAppointmentRecords,
  syntheticScope,
} from './synthetic-appointments.js';

const MB = 1024 * 1024;
/** The mapping and hashing steps are timed on this many records and scaled up: their cost per record is flat. */
const SAMPLE = 10_000;

async function timed<T>(fn: () => T | Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await fn();
  return { ms: performance.now() - started, value };
}

/**
 * Where a pass's time goes: its steps re-run one by one after the measured pass, with the same functions
 * `applyRecords` calls (the JIT is warm by then, so the parts tend to add up to less than the pass).
 */
async function breakdown(
  store: Store,
  records: readonly UpstreamRecord<Appointment>[],
): Promise<PassBreakdown> {
  const resolve = await timed(() => resolveFhirIds(store, SYNTHETIC_TENANT, records));
  const sample = records.slice(0, SAMPLE);
  const map = await timed(() => sample.map((r) => r.toFhir(resolve.value)));
  const hash = await timed(() => map.value.map((r) => contentHash(r)));
  const current = await timed(() => currentHashes(store, SYNTHETIC_TENANT, 'Appointment', syntheticScope()));
  const scale = records.length / sample.length;
  return {
    resolveMs: resolve.ms,
    mapMs: map.ms * scale,
    hashMs: hash.ms * scale,
    currentHashesMs: current.ms,
  };
}

async function main(task: WorkerTask): Promise<WorkerReport> {
  const rssAtStartMb = process.memoryUsage().rss / MB;
  const store = await openStore(task.url, task.schema === undefined ? {} : { schema: task.schema });
  try {
    if (task.mode === 'load') await migrateToLatest(store);
    const options = { ...DEFAULT_SYNTHETIC, variant: task.variant };
    const records =
      task.input === 'whole'
        ? syntheticAppointmentRecords(options)
        : syntheticAppointmentPages(options, APPLY_PAGE_SIZE);
    const rssBeforeMb = process.memoryUsage().rss / MB;
    // Samples land only when the pass awaits the database; maxRSS below is the exact peak.
    let sampledPeak = rssBeforeMb;
    const sampler = setInterval(() => {
      sampledPeak = Math.max(sampledPeak, process.memoryUsage().rss / MB);
    }, 5);
    const started = performance.now();
    const result = await applyRecords(
      store,
      SYNTHETIC_TENANT,
      [{ resourceType: 'Appointment', records, scope: syntheticScope(), vanished: 'delete' }],
      { baseline: task.mode === 'load' },
    );
    const wallMs = performance.now() - started;
    clearInterval(sampler);
    const maxRssMb = (process.resourceUsage().maxRSS * 1024) / MB;
    return {
      wallMs,
      rssAtStartMb,
      rssBeforeMb,
      sampledPeakRssMb: Math.max(sampledPeak, process.memoryUsage().rss / MB),
      // resourceUsage().maxRSS is in kilobytes; read before the breakdown allocates anything.
      maxRssMb,
      records: DEFAULT_SYNTHETIC.appointments,
      ...result,
      ...(task.breakdown ? { breakdown: await breakdown(store, syntheticAppointmentRecords(options)) } : {}),
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
