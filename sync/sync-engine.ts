/**
 * The sync engine (DESIGN.md section 5): node-cron drives each tenant's streams; passes of one tenant and stream
 * never overlap; a failing stream backs off on its own (exponentially, or as long as `Retry-After` says), so one
 * failing tenant never slows another; health is re-evaluated every second so a stuck stream turns `lagging` even
 * when no pass reports an error.
 */
import cron, { type ScheduledTask } from 'node-cron';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { TenantConfig } from '../src/config.js';
import type { Connector } from '../src/connectors/connector.js';
import { isUpstreamError } from '../src/connectors/upstream-error.js';
import type { WorkLeases } from '../src/leases/work-leases.js';
import type { Logger } from '../src/logger.js';
import type { Store } from '../src/store/database.js';
import { isLeaseLost } from '../src/store/lease-rows.js';
import { getSyncState, listSyncStates, type SyncState } from '../src/store/sync-state-store.js';
import { cronForInterval } from './cron-schedule.js';
import { healthOf, recordSyncState } from './sync-health.js';
import { STREAMS, runPass, streamIntervalSeconds, type PassResult, type StreamName } from './sync-streams.js';

export interface SyncTenant {
  config: TenantConfig;
  connector: Connector;
}

export interface SyncEngineOptions {
  store: Store;
  tenants: readonly SyncTenant[];
  logger: Logger;
  metrics?: Registry;
  now?: () => Date;
  /** Longest pause after repeated failures. */
  maxBackoffMs?: number;
  /** Called after a pass that appended journal events (the webhook dispatcher wakes on it). */
  onEvents?: (tenantId: string) => void;
  /**
   * Several instances on one store (issue 11): scheduled passes of a tenant run only on the instance holding its
   * work lease, fenced by it (a pass that outlives its lease commits nothing). None: every tenant runs here
   * (`switchboard sync --once`, tests driving passes by hand).
   */
  leases?: WorkLeases;
}

export interface PassReport {
  tenantId: string;
  stream: StreamName;
  outcome: 'ok' | 'failed' | 'skipped';
  result?: PassResult;
  error?: string;
}

export interface SyncEngine {
  /** Catches up (below) every tenant it holds in the background and schedules the passes. */
  start(): Promise<void>;
  /** Stops scheduling, aborts passes in flight and waits for them. */
  stop(): Promise<void>;
  /** One pass of every stream of one tenant (or all tenants), reference data first. */
  runOnce(tenantId?: string): Promise<PassReport[]>;
  /**
   * Runs the tenant's streams that are due now: never passed, failing, or last passed an interval ago or more
   * (reference data first). What an instance that starts, or takes a tenant's lease over, runs at once; a stream its
   * previous holder passed a moment ago waits for its next tick instead of polling the records system twice.
   */
  catchUp(tenantId: string): Promise<PassReport[]>;
  /** One pass of one stream; waits for a pass already running instead of starting a second. */
  runStream(tenantId: string, stream: StreamName): Promise<PassReport>;
  /** Current state of each stream of a tenant, with health recomputed for now. */
  health(tenantId: string): Promise<SyncState[]>;
}

/** Versions written by one pass after which planner statistics are refreshed. */
const ANALYZE_AFTER_VERSIONS = 200;

const HEALTH_LEVEL = { fresh: 0, lagging: 1, failing: 2 } as const;

export function createSyncEngine(options: SyncEngineOptions): SyncEngine {
  const { store, logger } = options;
  const now = options.now ?? (() => new Date());
  const maxBackoffMs = options.maxBackoffMs ?? 5 * 60_000;
  const tenants = new Map(options.tenants.map((t) => [t.config.id, t]));
  const running = new Map<string, Promise<PassReport>>();
  const backoffUntil = new Map<string, number>();
  const tasks: ScheduledTask[] = [];
  const stopping = new AbortController();
  const metrics = createMetrics(options.metrics);
  const { leases } = options;
  const holds = (tenantId: string) => leases?.holds(tenantId) ?? true;

  const key = (tenantId: string, stream: StreamName) => `${tenantId}/${stream}`;

  function tenantOf(tenantId: string): SyncTenant {
    const tenant = tenants.get(tenantId);
    if (!tenant) throw new Error(`unknown tenant ${tenantId}`);
    return tenant;
  }

  async function pass(tenant: SyncTenant, stream: StreamName): Promise<PassReport> {
    const tenantId = tenant.config.id;
    const interval = streamIntervalSeconds(stream, tenant.config.sync);
    const health = (s: Pick<SyncState, 'lastSuccessAt' | 'consecutiveFailures'>) =>
      healthOf(s, interval, tenant.config.sync, now());
    const previous = await getSyncState(store, tenantId, stream);
    const startedAt = now();
    const timer = metrics?.duration.startTimer({ tenant: tenantId, stream });
    try {
      // Every write of the pass, its cursor included, commits only while this instance still holds the lease.
      const { result, state } = await store.fenced(leases?.fenceOf(tenantId), async () => {
        const result = await runPass(stream, {
          store,
          tenant: tenant.config,
          connector: tenant.connector,
          now: startedAt,
          signal: stopping.signal,
          cursor: previous?.cursor ?? null,
          baseline: !previous?.lastSuccessAt,
        });
        const state = await recordSyncState(
          store,
          tenantId,
          stream,
          previous,
          {
            cursor: result.cursor,
            lastAttemptAt: startedAt.toISOString(),
            lastSuccessAt: startedAt.toISOString(),
            lastError: null,
            consecutiveFailures: 0,
          },
          health,
          now(),
        );
        return { result, state };
      });
      backoffUntil.delete(key(tenantId, stream));
      // A first load (or any big pass) changes the tables' shape: let the planner see it before searches arrive.
      if (result.written >= ANALYZE_AFTER_VERSIONS) await store.analyze();
      if (result.events > 0) options.onEvents?.(tenantId);
      metrics?.passes.inc({ tenant: tenantId, stream, outcome: 'ok' });
      metrics?.written.inc({ tenant: tenantId, stream }, result.written);
      observeHealth(tenantId, state);
      if (result.written > 0)
        logger.debug({ tenant: tenantId, stream, ...result }, 'sync pass wrote changes');
      return { tenantId, stream, outcome: 'ok', result };
    } catch (err) {
      if (stopping.signal.aborted) return { tenantId, stream, outcome: 'skipped' };
      if (isLeaseLost(err)) {
        // Another instance runs this tenant now: its passes, not this one, say how the stream is doing.
        metrics?.passes.inc({ tenant: tenantId, stream, outcome: 'fenced' });
        logger.info(
          { tenant: tenantId, stream },
          'sync pass discarded: the work lease passed to another instance',
        );
        return { tenantId, stream, outcome: 'skipped', error: describe(err) };
      }
      const failures = (previous?.consecutiveFailures ?? 0) + 1;
      const message = describe(err);
      const state = await recordSyncState(
        store,
        tenantId,
        stream,
        previous,
        { lastAttemptAt: startedAt.toISOString(), lastError: message, consecutiveFailures: failures },
        health,
        now(),
      );
      const retryAfterMs = isUpstreamError(err) ? (err.retryAfterSeconds ?? 0) * 1000 : 0;
      const backoffMs = Math.min(maxBackoffMs, Math.max(retryAfterMs, interval * 1000 * 2 ** (failures - 1)));
      // Jitter spreads tenants that failed together (one records system down for everyone) apart on recovery.
      backoffUntil.set(key(tenantId, stream), now().getTime() + backoffMs * (0.8 + Math.random() * 0.4));
      metrics?.passes.inc({ tenant: tenantId, stream, outcome: 'failed' });
      observeHealth(tenantId, state);
      logger.warn({ tenant: tenantId, stream, failures, backoffMs, error: message }, 'sync pass failed');
      return { tenantId, stream, outcome: 'failed', error: message };
    } finally {
      timer?.();
    }
  }

  function observeHealth(tenantId: string, state: SyncState): void {
    metrics?.health.set({ tenant: tenantId, stream: state.stream }, HEALTH_LEVEL[state.health]);
    if (state.lastSuccessAt) {
      metrics?.lastSuccess.set(
        { tenant: tenantId, stream: state.stream },
        Date.parse(state.lastSuccessAt) / 1000,
      );
    }
  }

  function runStream(tenantId: string, stream: StreamName): Promise<PassReport> {
    const k = key(tenantId, stream);
    const inFlight = running.get(k);
    if (inFlight) return inFlight;
    const promise = pass(tenantOf(tenantId), stream).finally(() => running.delete(k));
    running.set(k, promise);
    return promise;
  }

  /** A cron tick: skipped while the previous pass runs or the stream backs off. */
  function tick(tenantId: string, stream: StreamName): void {
    const k = key(tenantId, stream);
    if (stopping.signal.aborted || running.has(k) || (backoffUntil.get(k) ?? 0) > now().getTime()) return;
    if (!holds(tenantId)) return;
    runStream(tenantId, stream).catch((err: unknown) =>
      logger.error({ err, tenant: tenantId, stream }, 'sync pass crashed'),
    );
  }

  /** Re-derives health from time alone (a stream with no pass finishing goes lagging) and records changes. */
  async function evaluateHealth(): Promise<void> {
    for (const tenant of tenants.values()) {
      // The lease holder records health changes (and their events) once for everyone.
      if (!holds(tenant.config.id)) continue;
      for (const state of await listSyncStates(store, tenant.config.id)) {
        const stream = state.stream as StreamName;
        if (!STREAMS.includes(stream) || running.has(key(tenant.config.id, stream))) continue;
        const interval = streamIntervalSeconds(stream, tenant.config.sync);
        const health = (s: Pick<SyncState, 'lastSuccessAt' | 'consecutiveFailures'>) =>
          healthOf(s, interval, tenant.config.sync, now());
        if (health(state) === state.health) continue;
        observeHealth(
          tenant.config.id,
          await recordSyncState(store, tenant.config.id, stream, state, {}, health, now()),
        );
      }
    }
  }

  /** Passes of `streams` of one tenant: reference data first (appointments and blocks are mapped against it). */
  async function runStreams(tenantId: string, streams: readonly StreamName[]): Promise<PassReport[]> {
    const reference = streams.includes('reference') ? [await runStream(tenantId, 'reference')] : [];
    const rest = await Promise.all(
      streams.filter((s) => s !== 'reference').map((s) => runStream(tenantId, s)),
    );
    return [...reference, ...rest];
  }

  async function runOnce(tenantId?: string): Promise<PassReport[]> {
    const selected = tenantId ? [tenantOf(tenantId)] : [...tenants.values()];
    const reports = await Promise.all(selected.map((tenant) => runStreams(tenant.config.id, STREAMS)));
    return reports.flat();
  }

  async function catchUp(tenantId: string): Promise<PassReport[]> {
    const tenant = tenantOf(tenantId);
    const states = new Map((await listSyncStates(store, tenantId)).map((s) => [s.stream, s]));
    const due = STREAMS.filter((stream) =>
      isDue(states.get(stream), streamIntervalSeconds(stream, tenant.config.sync), now()),
    );
    return runStreams(tenantId, due);
  }

  return {
    runOnce,
    catchUp,
    runStream,
    async health(tenantId) {
      const tenant = tenantOf(tenantId);
      const states = await listSyncStates(store, tenantId);
      return states.map((s) => {
        const stream = s.stream as StreamName;
        if (!STREAMS.includes(stream)) return s;
        return {
          ...s,
          health: healthOf(s, streamIntervalSeconds(stream, tenant.config.sync), tenant.config.sync, now()),
        };
      });
    },
    async start() {
      // The first passes run in the background: the facade serves (and /readyz says "not yet") meanwhile.
      const first = (tenantId: string) =>
        catchUp(tenantId).catch((err: unknown) =>
          logger.error({ err, tenant: tenantId }, 'initial sync failed'),
        );
      for (const tenantId of tenants.keys()) if (holds(tenantId)) void first(tenantId);
      // A lease taken over (its holder died, or this instance joined) runs its due passes now, not at the next tick.
      leases?.onAcquired((tenantId) => {
        if (!stopping.signal.aborted && tenants.has(tenantId)) void first(tenantId);
      });
      for (const tenant of tenants.values()) {
        for (const stream of STREAMS) {
          const { expression } = cronForInterval(streamIntervalSeconds(stream, tenant.config.sync));
          tasks.push(
            cron.schedule(expression, () => tick(tenant.config.id, stream), {
              name: `sync:${tenant.config.id}:${stream}`,
            }),
          );
        }
      }
      tasks.push(
        cron.schedule('* * * * * *', () => {
          evaluateHealth().catch((err: unknown) => logger.error({ err }, 'sync health evaluation failed'));
        }),
      );
    },
    async stop() {
      stopping.abort();
      await Promise.all(tasks.map((t) => t.destroy()));
      tasks.length = 0;
      await Promise.allSettled([...running.values()]);
    },
  };
}

/** Due: never passed, failing since its last success, or last passed `intervalSeconds` ago or more. */
function isDue(state: SyncState | undefined, intervalSeconds: number, at: Date): boolean {
  if (!state?.lastSuccessAt || state.consecutiveFailures > 0) return true;
  return at.getTime() - Date.parse(state.lastSuccessAt) >= intervalSeconds * 1000;
}

function describe(err: unknown): string {
  // Upstream errors carry no PHI (status, kind, endpoint); anything else is reduced to its class and message.
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return text.slice(0, 500);
}

function createMetrics(registry: Registry | undefined) {
  if (!registry) return undefined;
  const registers = [registry];
  return {
    passes: new Counter({
      name: 'switchboard_sync_passes_total',
      help: 'Sync passes by tenant, stream and outcome',
      labelNames: ['tenant', 'stream', 'outcome'],
      registers,
    }),
    written: new Counter({
      name: 'switchboard_sync_versions_written_total',
      help: 'Resource versions written by sync passes',
      labelNames: ['tenant', 'stream'],
      registers,
    }),
    duration: new Histogram({
      name: 'switchboard_sync_pass_duration_seconds',
      help: 'Duration of sync passes',
      labelNames: ['tenant', 'stream'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    health: new Gauge({
      name: 'switchboard_sync_health',
      help: 'Sync health per stream: 0 fresh, 1 lagging, 2 failing',
      labelNames: ['tenant', 'stream'],
      registers,
    }),
    lastSuccess: new Gauge({
      name: 'switchboard_sync_last_success_timestamp_seconds',
      help: 'Unix time of the last successful pass per stream',
      labelNames: ['tenant', 'stream'],
      registers,
    }),
  };
}
