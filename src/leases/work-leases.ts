/**
 * Work leases (issue 11, DESIGN.md section 5): with several instances on one PostgreSQL store, one instance at a
 * time runs each tenant's sync streams and saga recovery. Lease rows with a fencing epoch (`src/store/lease-rows.ts`)
 * rather than advisory locks: a row names its holder (shown on `/readyz`, `/status`, `/metrics`), outlives the
 * session that took it only until it expires, and its epoch lets a commit prove in its own transaction that the
 * lease it started under is still current — an advisory lock held by a pooled session could not be checked from
 * another connection's transaction, and is lost silently with its connection.
 *
 * Every `renewIntervalMs` an instance heartbeats, reads the live instances (heartbeat within `ttlMs`) and, per
 * tenant, the owner by rendezvous hashing over them: the owner takes the lease once it is free and renews it; a
 * holder that is not the owner hands it over when the owner is alive; anyone takes a lease nobody took for a whole
 * TTL after it expired. A holder killed with SIGKILL stops renewing: its lease expires after at most `ttlMs` and the
 * next owner takes it on its next round, so failover takes at most `ttlMs + renewIntervalMs` (default 10 + 2 s).
 *
 * SQLite: one process owns the file, so {@link alwaysHeldLeases} holds every lease, with no fence to check.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { Gauge, type Registry } from 'prom-client';
import type { Logger } from '../logger.js';
import type { Store } from '../store/database.js';
import {
  acquireLease,
  heartbeat,
  listLeases,
  liveInstances,
  liveProcesses,
  processName,
  releaseLease,
  removeInstances,
  renewLease,
  type Fence,
  type LeaseRow,
} from '../store/lease-rows.js';
import { rendezvousOwner } from './rendezvous.js';

/** Default lease lifetime: a dead holder's work passes on within this plus one renewal interval. */
export const DEFAULT_LEASE_TTL_MS = 10_000;
/** Default heartbeat / renewal / rebalancing round. */
export const DEFAULT_LEASE_RENEW_INTERVAL_MS = 2_000;
/** Instances silent this long are deleted from the instances table. */
const FORGET_AFTER_MS = 24 * 3600_000;

/** Who holds a tenant's work lease, as the store says. */
export interface TenantLeaseHolder {
  /** The holding instance; null when the lease is free (never taken, expired or released). */
  holder: string | null;
  epoch: number | null;
  /** When the holder's lease runs out unless renewed (ISO); null when free. */
  expiresAt: string | null;
}

/**
 * The leases of one instance over its tenants' work (sync streams and saga recovery).
 *
 * @see DESIGN.md section 5 and issue 11
 */
export interface WorkLeases {
  /** This instance's id: generated at start, logged, and the `instance` label of its metrics. */
  readonly instanceId: string;
  /**
   * This process: the instance id and this start of it. An instance restarted under a configured id is another
   * process (what a claim made by the one that died is judged by).
   */
  readonly processId: string;
  /** First heartbeat and lease round (resolves once done), then one every renewal interval. */
  start(): Promise<void>;
  /** Stops renewing, releases held leases at once and forgets this instance, so others take over now. */
  stop(): Promise<void>;
  /** One heartbeat-and-lease round now (a round already running is joined). */
  rebalance(): Promise<void>;
  /** Whether this instance holds `tenantId`'s lease now (as far as it knows: a fenced write has the last word). */
  holds(tenantId: string): boolean;
  /** The fence writes of `tenantId`'s work run under (`Store.fenced`); undefined when no check is needed. */
  fenceOf(tenantId: string): Fence | undefined;
  /** Called with a tenant whose lease this instance has just taken (to run its work now, not at the next tick). */
  onAcquired(listener: (tenantId: string) => void): void;
  /** The holder of each tenant's lease, read from the store. */
  holders(): Promise<Record<string, TenantLeaseHolder>>;
  /** Instances alive now (this one included), read from the store. */
  liveInstances(): Promise<string[]>;
  /** The {@link processId}s of the processes alive now (this one included), read from the store. */
  liveProcesses(): Promise<string[]>;
}

export interface StoreLeasesOptions {
  store: Store;
  tenantIds: readonly string[];
  logger: Logger;
  instanceId?: string;
  ttlMs?: number;
  renewIntervalMs?: number;
  /** Where the lease gauges are registered. */
  metrics?: Registry;
  /** The sync streams, for the per-stream lease gauge (`sync/` owns their names). */
  streams?: readonly string[];
}

/** A fresh instance id: host, process and a random suffix, so a restarted process never reuses one. */
export function newInstanceId(): string {
  const host = hostname()
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .slice(0, 24);
  return `${host}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

const leaseName = (tenantId: string) => `tenant:${tenantId}`;

/** Leases for a store several processes share (PostgreSQL). */
export function createStoreLeases(options: StoreLeasesOptions): WorkLeases {
  const { store, logger } = options;
  const instanceId = options.instanceId ?? newInstanceId();
  const ttlMs = options.ttlMs ?? DEFAULT_LEASE_TTL_MS;
  const renewIntervalMs = options.renewIntervalMs ?? DEFAULT_LEASE_RENEW_INTERVAL_MS;
  const startedAt = new Date().toISOString();
  /** Leases held, with when this instance stops believing it holds them unless renewed. */
  const held = new Map<string, { fence: Fence; until: number }>();
  /** The last fence per tenant, kept after a loss so late writes of that epoch are refused, not unfenced. */
  const lastFence = new Map<string, Fence>();
  const listeners: Array<(tenantId: string) => void> = [];
  let lastRows = new Map<string, LeaseRow>();
  let timer: NodeJS.Timeout | undefined;
  let round: Promise<void> | undefined;
  let stopped = false;

  async function rebalance(): Promise<void> {
    const now = Date.now();
    await heartbeat(store, instanceId, startedAt, now);
    const live = await liveInstances(store, now - ttlMs);
    if (!live.includes(instanceId)) live.push(instanceId);
    const rows = new Map((await listLeases(store, 'tenant:')).map((r) => [r.name, r]));
    for (const tenantId of options.tenantIds) {
      const name = leaseName(tenantId);
      const owner = rendezvousOwner(live, tenantId);
      const mine = held.get(tenantId);
      if (mine) {
        if (owner !== instanceId) {
          // Hand over to the instance the tenant belongs to now (a new instance joined): it takes it next round.
          held.delete(tenantId);
          await releaseLease(store, mine.fence, Date.now());
          logger.info({ tenant: tenantId, to: owner }, 'handed a work lease over');
        } else if (await renewLease(store, mine.fence, Date.now(), ttlMs)) {
          mine.until = now + ttlMs;
          continue;
        } else {
          held.delete(tenantId);
          logger.warn({ tenant: tenantId, epoch: mine.fence.epoch }, 'lost a work lease');
        }
      }
      if (held.has(tenantId)) continue;
      const row = rows.get(name);
      const free = !row || row.expiresAtMs <= now;
      // Nobody took it for a whole TTL after it expired: take it whoever the owner is, so work never stalls.
      const abandoned = !row || row.expiresAtMs <= now - ttlMs;
      if (!free || (owner !== instanceId && !abandoned)) continue;
      const fence = await acquireLease(store, name, instanceId, Date.now(), ttlMs);
      if (!fence) continue;
      held.set(tenantId, { fence, until: now + ttlMs });
      lastFence.set(tenantId, fence);
      logger.info({ tenant: tenantId, epoch: fence.epoch, instance: instanceId }, 'took a work lease');
      for (const listener of listeners) listener(tenantId);
    }
    lastRows = new Map((await listLeases(store, 'tenant:')).map((r) => [r.name, r]));
    await removeInstances(store, undefined, now - FORGET_AFTER_MS);
  }

  function runRound(): Promise<void> {
    round ??= rebalance()
      .catch((err: unknown) => logger.warn({ err }, 'lease round failed'))
      .finally(() => {
        round = undefined;
      });
    return round;
  }

  if (options.metrics) registerGauges(options.metrics);

  function registerGauges(registry: Registry): void {
    const streams = options.streams ?? ['sync'];
    new Gauge({
      name: 'switchboard_sync_lease',
      help: 'Holder of each tenant stream lease (1 for the holding instance; holder "none" when free)',
      labelNames: ['tenant', 'stream', 'holder'],
      registers: [registry],
      collect() {
        this.reset();
        const now = Date.now();
        for (const tenantId of options.tenantIds) {
          const row = lastRows.get(leaseName(tenantId));
          const holder = row && row.expiresAtMs > now ? row.holder : 'none';
          for (const stream of streams)
            this.set({ tenant: tenantId, stream, holder }, holder === 'none' ? 0 : 1);
        }
      },
    });
    new Gauge({
      name: 'switchboard_lease_held',
      help: "1 while this instance holds the tenant's work lease (sync streams and saga recovery)",
      labelNames: ['tenant'],
      registers: [registry],
      collect() {
        for (const tenantId of options.tenantIds) this.set({ tenant: tenantId }, holdsNow(tenantId) ? 1 : 0);
      },
    });
  }

  function holdsNow(tenantId: string): boolean {
    const mine = held.get(tenantId);
    return mine !== undefined && Date.now() < mine.until;
  }

  return {
    instanceId,
    processId: processName(instanceId, startedAt),
    async start() {
      stopped = false;
      await runRound();
      timer = setInterval(() => void runRound(), renewIntervalMs);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      timer = undefined;
      await round;
      const now = Date.now();
      const mine = [...held.values()];
      held.clear();
      try {
        for (const { fence } of mine) await releaseLease(store, fence, now);
        await removeInstances(store, instanceId, now - FORGET_AFTER_MS);
      } catch (err) {
        logger.warn({ err }, 'releasing work leases at stop failed; they expire by themselves');
      }
    },
    rebalance: runRound,
    holds: holdsNow,
    fenceOf(tenantId) {
      // Never unfenced on a shared store: a tenant never held gets a fence no row matches, so its writes fail.
      return (
        held.get(tenantId)?.fence ??
        lastFence.get(tenantId) ?? { name: leaseName(tenantId), holder: instanceId, epoch: 0 }
      );
    },
    onAcquired(listener) {
      listeners.push(listener);
    },
    liveInstances: () => liveInstances(store, Date.now() - ttlMs),
    liveProcesses: () => liveProcesses(store, Date.now() - ttlMs),
    async holders() {
      const rows = new Map((await listLeases(store, 'tenant:')).map((r) => [r.name, r]));
      lastRows = rows;
      const now = Date.now();
      return Object.fromEntries(
        options.tenantIds.map((tenantId) => {
          const row = rows.get(leaseName(tenantId));
          const live = row !== undefined && row.expiresAtMs > now;
          return [
            tenantId,
            {
              holder: live ? row.holder : null,
              epoch: live ? row.epoch : null,
              expiresAt: live ? new Date(row.expiresAtMs).toISOString() : null,
            },
          ];
        }),
      );
    },
  };
}

/**
 * Leases of a store only one process uses (SQLite): every lease is held, no fence is checked. Same interface, so
 * the sync engine and the recovery worker take the same path on both dialects.
 */
export function alwaysHeldLeases(tenantIds: readonly string[], instanceId = newInstanceId()): WorkLeases {
  const processId = processName(instanceId, new Date().toISOString());
  return {
    instanceId,
    processId,
    start: () => Promise.resolve(),
    stop: () => Promise.resolve(),
    rebalance: () => Promise.resolve(),
    holds: () => true,
    fenceOf: () => undefined,
    onAcquired: () => undefined,
    liveInstances: () => Promise.resolve([instanceId]),
    liveProcesses: () => Promise.resolve([processId]),
    holders: () =>
      Promise.resolve(
        Object.fromEntries(
          tenantIds.map((tenantId) => [tenantId, { holder: instanceId, epoch: null, expiresAt: null }]),
        ),
      ),
  };
}
