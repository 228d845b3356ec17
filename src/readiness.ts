/**
 * `/readyz` (DESIGN.md section 2): ready when the store answers and every tenant has synced recently — each
 * stream has succeeded at least once and none is failing, and the hot window (what agents book from) is fresh.
 * With several instances (issue 11) sync state is shared, so every instance is ready whether or not it holds a
 * tenant's work lease; the report names the instance answering and, per tenant, the one holding the lease.
 */
import type { TenantConfig } from './config.js';
import type { WorkLeases } from './leases/work-leases.js';
import type { Store } from './store/database.js';
import type { SyncHealth, SyncState } from './store/sync-state-store.js';

/** What readiness needs of the sync engine: each stream's state with health recomputed for now. */
export interface SyncHealthSource {
  health(tenantId: string): Promise<SyncState[]>;
}

export interface ReadinessReport {
  ready: boolean;
  store: 'ok' | 'unreachable';
  /** The instance that answered. */
  instance?: string;
  tenants: Record<
    string,
    {
      ready: boolean;
      /** The instance holding the tenant's sync lease (null: free right now, e.g. its holder just died). */
      syncLeaseHolder?: string | null;
      streams: Record<string, { health: SyncHealth; lastSuccessAt: string | null; lastError: string | null }>;
    }
  >;
}

/** Streams that must have synced before a tenant is ready, and the one that must be fresh. */
const REQUIRED_STREAMS = ['reference', 'window-hot', 'window-warm', 'patients'];
const MUST_BE_FRESH = 'window-hot';

export async function readiness(
  store: Store | undefined,
  sync: SyncHealthSource | undefined,
  tenants: readonly TenantConfig[],
  leases?: Pick<WorkLeases, 'instanceId' | 'holders'>,
): Promise<ReadinessReport> {
  const storeOk = store
    ? await store.ping().then(
        () => true,
        () => false,
      )
    : false;
  const report: ReadinessReport = { ready: storeOk, store: storeOk ? 'ok' : 'unreachable', tenants: {} };
  if (leases) report.instance = leases.instanceId;
  const holders = storeOk && leases ? await leases.holders().catch(() => undefined) : undefined;
  for (const tenant of tenants) {
    const states = storeOk && sync ? await sync.health(tenant.id) : [];
    const byStream = new Map(states.map((s) => [s.stream, s]));
    const ready =
      REQUIRED_STREAMS.every((name) => {
        const s = byStream.get(name);
        return s !== undefined && s.lastSuccessAt !== null && s.health !== 'failing';
      }) && byStream.get(MUST_BE_FRESH)?.health === 'fresh';
    report.tenants[tenant.id] = {
      ready,
      ...(leases ? { syncLeaseHolder: holders?.[tenant.id]?.holder ?? null } : {}),
      streams: Object.fromEntries(
        states.map((s) => [
          s.stream,
          { health: s.health, lastSuccessAt: s.lastSuccessAt, lastError: s.lastError },
        ]),
      ),
    };
    report.ready &&= ready;
  }
  return report;
}
