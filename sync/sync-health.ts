/**
 * Sync health per tenant and stream (DESIGN.md section 5): fresh → lagging → failing and back, measured from the
 * stream's last success and its consecutive failures. A change of health is written with a `sync.health-changed`
 * journal event in the same transaction, so subscribers hear of it both ways.
 */
import type { SyncSettings } from '../src/config.js';
import { recordChanges } from '../src/events/change-writer.js';
import type { EventType } from '../src/events/event-types.js';
import type { Store } from '../src/store/database.js';
import {
  upsertSyncStateInTransaction,
  type SyncHealth,
  type SyncState,
  type SyncStatePatch,
} from '../src/store/sync-state-store.js';

export const HEALTH_EVENT: EventType = 'sync.health-changed';

/**
 * `failing` after `failingAfterErrors` consecutive failures; `lagging` when the last success is older than
 * `laggingAfterIntervals` poll intervals (or there has been none); otherwise `fresh`.
 */
export function healthOf(
  state: Pick<SyncState, 'lastSuccessAt' | 'consecutiveFailures'>,
  intervalSeconds: number,
  sync: SyncSettings,
  now: Date,
): SyncHealth {
  if (state.consecutiveFailures >= sync.failingAfterErrors) return 'failing';
  if (state.lastSuccessAt === null) return 'lagging';
  const ageMs = now.getTime() - Date.parse(state.lastSuccessAt);
  return ageMs > sync.laggingAfterIntervals * intervalSeconds * 1000 ? 'lagging' : 'fresh';
}

/**
 * Applies `patch` to a stream's state, recomputes its health, and — when the health changed — appends the
 * health event, all in one write transaction. Returns the new state.
 */
export async function recordSyncState(
  store: Store,
  tenantId: string,
  stream: string,
  previous: SyncState | undefined,
  patch: SyncStatePatch,
  health: (merged: Pick<SyncState, 'lastSuccessAt' | 'consecutiveFailures'>) => SyncHealth,
  now: Date,
): Promise<SyncState> {
  const merged = {
    lastSuccessAt:
      patch.lastSuccessAt !== undefined ? patch.lastSuccessAt : (previous?.lastSuccessAt ?? null),
    consecutiveFailures: patch.consecutiveFailures ?? previous?.consecutiveFailures ?? 0,
  };
  const next = health(merged);
  const before = previous?.health ?? 'lagging';
  return store.write(async (trx) => {
    const state = await upsertSyncStateInTransaction(trx, tenantId, stream, { ...patch, health: next }, now);
    if (next !== before) {
      await recordChanges(
        trx,
        tenantId,
        {
          events: [
            {
              eventType: HEALTH_EVENT,
              payload: {
                stream,
                previous: before,
                health: next,
                lastSuccessAt: state.lastSuccessAt,
                consecutiveFailures: state.consecutiveFailures,
                lastError: state.lastError,
              },
            },
          ],
        },
        now,
      );
    }
    return state;
  });
}
