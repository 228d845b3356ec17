/**
 * Benchmark (issue 15 item 4): storage stays flat after the retention window. A soak on a simulated clock: every
 * simulated day a practice books new appointments and changes existing ones (each commit writes versions, journal
 * events and, for one webhook subscription, deliveries that are then delivered), finishes booking sagas, stores
 * idempotency records and audit rows; the retention worker runs once a day. Windows of 10 days, 40 days simulated
 * (four windows). The same soak without retention runs beside it in the same run, as the baseline. Recorded: the
 * row counts of every bounded table and the SQLite file's size at the end of each window, with and without
 * retention; and the latency of a small commit while a pruning round works off a 30-day backlog, against the same
 * commit with no pruning running (the batches must not block writers).
 */
import { stat } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { sql } from 'kysely';
import type { Appointment } from '@medplum/fhirtypes';
import type { RetentionSettings } from '../src/config.js';
import { appendAuditEvent } from '../src/audit/audit-trail.js';
import { commitChanges } from '../src/events/change-writer.js';
import { createLogger } from '../src/logger.js';
import { createRetentionWorker } from '../src/retention/retention-worker.js';
import { openStore, type Store } from '../src/store/database.js';
import { migrateToLatest } from '../src/store/migrate.js';
import { retainedRowCounts } from '../src/store/retention-queries.js';
import { parseStoreUrl } from '../src/store/store-url.js';
import { createEndpointPolicy } from '../src/webhooks/delivery/endpoint-guard.js';
import { activateSubscription } from '../src/webhooks/subscriptions/subscription-lifecycle.js';
import { createSubscription } from '../src/webhooks/subscriptions/subscription-store.js';
import { insertIdempotencyRecord, insertSaga } from '../test/support/retention-activity.js';
import { seedPractice, subscriptionResource } from '../test/support/webhook-fixtures.js';
import type { Benchmark, BenchmarkResult, Figure, FigureTable } from './benchmark.js';
import { benchDatabaseFactories, type BenchDatabase } from './bench-stores.js';
import { median, percentile } from './stats.js';

const TENANT = 'clinic';
const DAY = 24 * 3600_000;
const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const WINDOW_DAYS = 10;
const DAYS = 4 * WINDOW_DAYS;
const NEW_PER_DAY = 60;
const CHANGES_PER_DAY = 60;
const PER_COMMIT = 12;
const SETTINGS: RetentionSettings = {
  enabled: true,
  journalDays: WINDOW_DAYS,
  deliveredOutboxDays: WINDOW_DAYS,
  historyVersions: 3,
  historyDays: WINDOW_DAYS,
  finishedSagaDays: WINDOW_DAYS,
  idempotencyHours: 24,
  intervalSeconds: 3600,
  batchSize: 500,
};
const KEY = [Buffer.alloc(32, 5)];
const PROBE_COMMITS = 200;

function appointmentOf(id: string, day: number, note: string): Appointment & { id: string } {
  const start = new Date(T0 + (day + 7) * DAY + (Number(id.replace(/\D/g, '')) % 40) * 15 * 60_000);
  return {
    resourceType: 'Appointment',
    id,
    status: 'booked',
    start: start.toISOString(),
    end: new Date(start.getTime() + 15 * 60_000).toISOString(),
    comment: note,
    participant: [
      { actor: { reference: 'Patient/pat-1' }, status: 'accepted' },
      { actor: { reference: 'Practitioner/dr-a' }, status: 'accepted' },
      { actor: { reference: 'Location/loc-1' }, status: 'accepted' },
    ],
  };
}

/** One simulated day of activity at `clock.now`. */
async function simulateDay(store: Store, day: number, next: { id: number }): Promise<void> {
  const at = new Date(store.now()).toISOString();
  const fresh = Array.from({ length: NEW_PER_DAY }, () => `ap${next.id++}`);
  // Changes go to a pool of 50 busy appointments, so versions pile up beyond the last N.
  const changed = Array.from({ length: CHANGES_PER_DAY }, (_, i) => `ap${(i + day) % 50}`);
  const all = [
    ...fresh.map((id) => ({ id, event: 'appointment.booked' })),
    ...changed.map((id) => ({ id, event: 'appointment.changed' })),
  ];
  for (let i = 0; i < all.length; i += PER_COMMIT) {
    const part = all.slice(i, i + PER_COMMIT);
    const unique = [...new Map(part.map((p) => [p.id, p])).values()];
    await commitChanges(
      store,
      TENANT,
      unique.map((p) => ({
        op: 'upsert' as const,
        resource: appointmentOf(p.id, day, `${p.event} ${at} ${i}`),
      })),
      unique.map((p) => ({
        eventType: p.event as 'appointment.booked',
        resourceType: 'Appointment' as const,
        resourceId: p.id,
      })),
    );
  }
  await store.write(async (trx) => {
    await trx
      .updateTable('outbox')
      .set({ delivered_at: at, attempts: 1 })
      .where('delivered_at', 'is', null)
      .execute();
    for (let i = 0; i < NEW_PER_DAY; i++) {
      await insertSaga(trx, {
        tenantId: TENANT,
        id: `saga-${day}-${i}`,
        state: 'committed',
        marker: `m-${day}-${i}`,
        at,
        appointmentId: `ap-${day}-${i}`,
        request: JSON.stringify({ note: 'x'.repeat(200) }),
      });
      await insertIdempotencyRecord(trx, {
        tenantId: TENANT,
        key: `key-${day}-${i}`,
        at,
        expiresAt: new Date(Date.parse(at) + DAY).toISOString(),
        response: JSON.stringify({ resourceType: 'Appointment', comment: 'y'.repeat(300) }),
      });
      await appendAuditEvent(
        trx,
        { tenant: { id: TENANT }, client: { id: 'agent' }, requestId: `r-${day}-${i}` },
        { action: 'create', resourceType: 'Appointment', resourceIds: [`ap-${day}-${i}`], status: 201 },
        new Date(at),
      );
    }
  });
}

async function fileBytes(store: Store, database: BenchDatabase): Promise<number | undefined> {
  if (database.dialect !== 'sqlite') return undefined;
  const location = parseStoreUrl(database.url);
  if (location.dialect !== 'sqlite') return undefined;
  await sql`pragma wal_checkpoint(TRUNCATE)`.execute(store.db);
  return (await stat(location.filename)).size;
}

interface Snapshot {
  day: number;
  counts: Record<string, number>;
  bytes: number | undefined;
}

/** The soak on one fresh database, with or without retention. */
async function soak(
  database: BenchDatabase,
  withRetention: boolean,
  log: (line: string) => void,
): Promise<{ snapshots: Snapshot[]; store: Store; roundMs: number[] }> {
  const clock = { now: T0 };
  const store = await openStore(database.url, {
    ...(database.schema ? { schema: database.schema } : {}),
    clock: () => new Date(clock.now),
    secretKeys: KEY,
  });
  await migrateToLatest(store);
  await seedPractice(store, TENANT);
  const { subscription } = await createSubscription(
    store,
    TENANT,
    subscriptionResource({ endpoint: 'http://127.0.0.1:9/hook', topic: 'appointment-booked' }),
    { policy: createEndpointPolicy({ allowlist: ['127.0.0.0/8'] }) },
  );
  await activateSubscription(store, TENANT, subscription.id);
  const worker = createRetentionWorker({
    store,
    tenantIds: [TENANT],
    settings: SETTINGS,
    logger: createLogger('silent'),
  });
  const snapshots: Snapshot[] = [];
  const roundMs: number[] = [];
  const next = { id: 0 };
  for (let day = 0; day < DAYS; day++) {
    clock.now = T0 + day * DAY;
    await simulateDay(store, day, next);
    if (withRetention) {
      const started = performance.now();
      await worker.runOnce();
      roundMs.push(performance.now() - started);
    }
    if ((day + 1) % WINDOW_DAYS === 0) {
      snapshots.push({
        day: day + 1,
        counts: await retainedRowCounts(store, TENANT),
        bytes: await fileBytes(store, database),
      });
      log(
        `${database.dialect} ${withRetention ? 'with' : 'without'} retention, day ${day + 1}: ${JSON.stringify(snapshots.at(-1)?.counts)}`,
      );
    }
  }
  return { snapshots, store, roundMs };
}

/**
 * Latency of small commits (a booking-sized write): `PROBE_COMMITS` of them, or as many as run until `busy()` turns
 * false (a pruning round working off a backlog meanwhile).
 */
async function probeCommits(store: Store, label: string, busy?: () => boolean): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; busy ? busy() || i < 20 : i < PROBE_COMMITS; i++) {
    const started = performance.now();
    await commitChanges(
      store,
      TENANT,
      [{ op: 'upsert', resource: appointmentOf(`probe${i % 20}`, DAYS, `${label} ${i}`) }],
      [{ eventType: 'appointment.changed', resourceType: 'Appointment', resourceId: `probe${i % 20}` }],
    );
    latencies.push(performance.now() - started);
    // As requests arrive over the network: better-sqlite3 is synchronous, so a loop of commits with no I/O between
    // them would never let the event loop (and the pruning round's next batch) run.
    await yieldToEventLoop();
  }
  return latencies;
}

const kib = (bytes: number | undefined) => (bytes === undefined ? '—' : `${Math.round(bytes / 1024)} KiB`);
const BOUNDED = ['change_journal', 'outbox', 'booking_sagas', 'idempotency_records'];
/** Versions other than the current one: what history retention bounds (current versions follow the resources). */
const olderVersions = (s: Snapshot | undefined) =>
  (s?.counts.resource_history ?? 0) - (s?.counts.resources ?? 0);
const boundedRows = (s: Snapshot | undefined) =>
  BOUNDED.reduce((sum, t) => sum + (s?.counts[t] ?? 0), 0) + olderVersions(s);

async function runOn(
  database: BenchDatabase,
  baseline: BenchDatabase,
  log: (line: string) => void,
): Promise<FigureTable[]> {
  const kept = await soak(database, true, log);
  const grown = await soak(baseline, false, log);
  try {
    const figures: Figure[] = [];
    for (const [i, snap] of kept.snapshots.entries()) {
      const base = grown.snapshots[i];
      const bounded = boundedRows(snap);
      const boundedBase = boundedRows(base);
      figures.push({
        figure: `day ${snap.day}: older versions (history rows − resources), with / without retention`,
        value: `${olderVersions(snap)} / ${olderVersions(base)}`,
      });
      figures.push({
        figure: `day ${snap.day}: bounded rows (journal + outbox + older versions + sagas + idempotency), with / without retention`,
        value: `${bounded} / ${boundedBase}`,
      });
      if (snap.bytes !== undefined) {
        figures.push({
          figure: `day ${snap.day}: SQLite file, with / without retention`,
          value: `${kib(snap.bytes)} / ${kib(base?.bytes)}`,
        });
      }
      figures.push({
        figure: `day ${snap.day}: audit rows (never pruned)`,
        value: `${snap.counts.audit_events ?? 0}`,
      });
    }
    const [, second, , last] = kept.snapshots;
    const growth = second && last ? boundedRows(last) / boundedRows(second) : Number.NaN;
    figures.push({
      figure: 'bounded rows at day 40 ÷ day 20 (after the window: flat)',
      value: growth.toFixed(2),
      aim: '≤ 1.10',
      met: growth <= 1.1,
    });
    const [, secondBase, , lastBase] = grown.snapshots;
    if (second?.bytes !== undefined && last?.bytes !== undefined) {
      const withGrowth = last.bytes - second.bytes;
      const withoutGrowth = (lastBase?.bytes ?? 0) - (secondBase?.bytes ?? 0);
      figures.push({
        figure:
          'SQLite file growth day 20 → 40, with / without retention (what still grows: new appointments and the audit trail)',
        value: `${kib(withGrowth)} / ${kib(withoutGrowth)}`,
      });
      figures.push({
        figure: 'file growth with retention ÷ without',
        value: (withGrowth / withoutGrowth).toFixed(2),
        aim: '< 1',
        met: withGrowth < withoutGrowth,
      });
    }
    figures.push({ figure: 'daily pruning round, median (ms)', value: median(kept.roundMs).toFixed(0) });

    // Writers while pruning: the baseline store has 30 days of backlog past the window.
    const idle = await probeCommits(grown.store, 'idle');
    const worker = createRetentionWorker({
      store: grown.store,
      tenantIds: [TENANT],
      settings: SETTINGS,
      logger: createLogger('silent'),
    });
    let pruningDone = false;
    const pruning = worker.runOnce().finally(() => {
      pruningDone = true;
    });
    const during = await probeCommits(grown.store, 'pruning', () => !pruningDone);
    const report = await pruning;
    const pruned = Object.values(report).reduce((a, b) => a + b, 0);
    figures.push(
      {
        figure: 'small commit while idle, p50 / p99 (ms)',
        value: `${median(idle).toFixed(1)} / ${percentile(idle, 99).toFixed(1)}`,
      },
      {
        figure: `small commit while a round prunes a 30-day backlog (${pruned} rows; ${during.length} commits meanwhile), p50 / p99 (ms)`,
        value: `${median(during).toFixed(1)} / ${percentile(during, 99).toFixed(1)}`,
      },
      {
        figure: 'p99 while pruning ÷ p99 idle',
        value: (percentile(during, 99) / percentile(idle, 99)).toFixed(2),
      },
    );
    return [
      {
        caption: `${database.dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL'}: ${DAYS} simulated days, ${WINDOW_DAYS}-day windows, ${NEW_PER_DAY} bookings + ${CHANGES_PER_DAY} changes a day`,
        figures,
      },
    ];
  } finally {
    await kept.store.close();
    await grown.store.close();
  }
}

export const benchmark: Benchmark = {
  name: 'retention',
  title: 'Retention soak: storage flat after the window',
  async run(log): Promise<BenchmarkResult> {
    const tables: FigureTable[] = [];
    for (const create of benchDatabaseFactories('retention')) {
      const database = await create();
      const baseline = await create();
      try {
        tables.push(...(await runOn(database, baseline, log)));
      } finally {
        await database.dispose();
        await baseline.dispose();
      }
    }
    return {
      tables,
      noise:
        'one run per dialect on a shared 2-core machine (other sessions were running); row counts and file sizes are exact, the latencies are indicative.',
      notes: [
        `Every simulated day: ${NEW_PER_DAY} new appointments and ${CHANGES_PER_DAY} changes in commits of ${PER_COMMIT} (versions, journal events, one subscription's deliveries, delivered the same day), ${NEW_PER_DAY} committed sagas, idempotency records and audit rows; one retention round a day (batches of ${SETTINGS.batchSize}).`,
        'The baseline is the same soak without retention, in the same run; afterwards its 30-day backlog is pruned in one round while 200 small commits run, against 200 with no pruning.',
        'SQLite reuses the pages freed by deletes, so the file stops growing without VACUUM.',
      ],
    };
  },
};
