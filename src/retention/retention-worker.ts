/**
 * Retention (issue 15 item 4; DESIGN.md section 7): a background worker that keeps storage bounded by deleting,
 * per tenant, what is past its window — delivered webhook deliveries, change-journal events no delivery refers to,
 * resource versions beyond the last N, finished booking sagas and idempotency records. The audit trail is never
 * pruned (export it with `switchboard audit-export`).
 *
 * Small batches in short transactions (`retention.batchSize` rows each, the event loop yielded between them), so a
 * sync pass or a booking waits at most one small delete for the write lock. With several instances a tenant is
 * pruned only by the holder of its work lease, each batch fenced by it (`src/leases/`), so one instance prunes.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { Counter, type Registry } from 'prom-client';
import type { RetentionSettings } from '../config.js';
import type { WorkLeases } from '../leases/work-leases.js';
import type { Logger } from '../logger.js';
import type { Store, StoreTransaction } from '../store/database.js';
import { isLeaseLost } from '../store/lease-rows.js';
import {
  pruneDeliveredOutbox,
  pruneFinishedSagas,
  pruneHistory,
  pruneIdempotencyRecords,
  pruneJournal,
} from '../store/retention-queries.js';

const DAY_MS = 24 * 3600_000;
/** Batches per table and tenant in one round: a backlog is worked off over several rounds, never in one burst. */
const MAX_BATCHES_PER_ROUND = 200;

/** Rows one round deleted, per table. */
export interface RetentionReport {
  outbox: number;
  change_journal: number;
  resource_history: number;
  booking_sagas: number;
  idempotency_records: number;
}

export interface RetentionWorkerOptions {
  store: Store;
  tenantIds: readonly string[];
  settings: RetentionSettings;
  logger: Logger;
  /** Several instances: prune only tenants whose lease is held here, fenced by it. */
  leases?: WorkLeases;
  now?: () => Date;
  metrics?: Registry;
}

export interface RetentionWorker {
  /** A round now, then one every `retention.intervalSeconds`. */
  start(): void;
  /** Stops the schedule and waits for a round in progress. */
  stop(): Promise<void>;
  /** One round over every tenant held here (a round already running is joined). */
  runOnce(): Promise<RetentionReport>;
}

type Rule = {
  table: keyof RetentionReport;
  prune: (trx: StoreTransaction, tenantId: string, now: Date, limit: number) => Promise<number>;
};

/** The rules in the order they must run: deliveries first, then the journal events they held, then versions. */
function rules(settings: RetentionSettings): Rule[] {
  const before = (now: Date, ms: number) => new Date(now.getTime() - ms).toISOString();
  return [
    {
      table: 'outbox',
      prune: (trx, t, now, limit) =>
        pruneDeliveredOutbox(trx, t, before(now, settings.deliveredOutboxDays * DAY_MS), limit),
    },
    {
      table: 'change_journal',
      prune: (trx, t, now, limit) => pruneJournal(trx, t, before(now, settings.journalDays * DAY_MS), limit),
    },
    {
      table: 'resource_history',
      prune: (trx, t, now, limit) =>
        pruneHistory(trx, t, before(now, settings.historyDays * DAY_MS), settings.historyVersions, limit),
    },
    {
      table: 'booking_sagas',
      prune: (trx, t, now, limit) =>
        pruneFinishedSagas(trx, t, before(now, settings.finishedSagaDays * DAY_MS), limit),
    },
    {
      table: 'idempotency_records',
      prune: (trx, t, now, limit) =>
        pruneIdempotencyRecords(
          trx,
          t,
          before(now, settings.idempotencyHours * 3600_000),
          now.toISOString(),
          limit,
        ),
    },
  ];
}

/** Builds the worker; nothing runs until {@link RetentionWorker.start} or {@link RetentionWorker.runOnce}. */
export function createRetentionWorker(options: RetentionWorkerOptions): RetentionWorker {
  const { store, settings, logger, leases } = options;
  const now = options.now ?? (() => store.now());
  const pruned = new Counter({
    name: 'switchboard_retention_pruned_rows_total',
    help: 'Rows deleted by retention, by table (the audit trail is never pruned)',
    labelNames: ['table'],
    registers: options.metrics ? [options.metrics] : [],
  });
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<RetentionReport> | undefined;
  let stopped = false;

  async function pruneTenant(tenantId: string, report: RetentionReport): Promise<void> {
    const fence = leases?.fenceOf(tenantId);
    for (const rule of rules(settings)) {
      for (let batch = 0; batch < MAX_BATCHES_PER_ROUND && !stopped; batch++) {
        const at = now();
        const deleted = await store.fenced(fence, () =>
          store.write((trx) => rule.prune(trx, tenantId, at, settings.batchSize)),
        );
        report[rule.table] += deleted;
        if (deleted > 0) pruned.inc({ table: rule.table }, deleted);
        if (deleted < settings.batchSize) break;
        // Let syncs, bookings and HTTP requests in between two batches.
        await yieldToEventLoop();
      }
    }
  }

  async function round(): Promise<RetentionReport> {
    const report: RetentionReport = {
      outbox: 0,
      change_journal: 0,
      resource_history: 0,
      booking_sagas: 0,
      idempotency_records: 0,
    };
    for (const tenantId of options.tenantIds) {
      if (stopped) break;
      if (leases && !leases.holds(tenantId)) continue;
      try {
        await pruneTenant(tenantId, report);
      } catch (err) {
        if (isLeaseLost(err)) continue;
        logger.warn({ err, tenant: tenantId }, 'retention round failed');
      }
    }
    const total = Object.values(report).reduce((a, b) => a + b, 0);
    if (total > 0) logger.info({ pruned: report }, 'retention pruned old rows');
    return report;
  }

  const runOnce = (): Promise<RetentionReport> => {
    running ??= round().finally(() => {
      running = undefined;
    });
    return running;
  };

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      void runOnce()
        .catch((err: unknown) => logger.warn({ err }, 'retention round failed'))
        .finally(schedule);
    }, settings.intervalSeconds * 1000);
    timer.unref();
  };

  return {
    start() {
      stopped = false;
      void runOnce()
        .catch((err: unknown) => logger.warn({ err }, 'retention round failed'))
        .finally(schedule);
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      timer = undefined;
      await running;
    },
    runOnce,
  };
}
