/**
 * `/readyz` (DESIGN.md section 2): ready when the store answers and every tenant has synced recently — each
 * stream has succeeded at least once and none is failing, and the hot window (what agents book from) is fresh.
 */
import type { TenantConfig } from './config.js';
import type { Store } from './store/database.js';
import type { SyncHealth, SyncState } from './store/sync-state-store.js';

/** What readiness needs of the sync engine: each stream's state with health recomputed for now. */
export interface SyncHealthSource {
  health(tenantId: string): Promise<SyncState[]>;
}

export interface ReadinessReport {
  ready: boolean;
  store: 'ok' | 'unreachable';
  tenants: Record<
    string,
    {
      ready: boolean;
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
): Promise<ReadinessReport> {
  const storeOk = store
    ? await store.ping().then(
        () => true,
        () => false,
      )
    : false;
  const report: ReadinessReport = { ready: storeOk, store: storeOk ? 'ok' : 'unreachable', tenants: {} };
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
