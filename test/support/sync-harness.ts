/**
 * End-to-end harness for the sync engine: a simulated records system on port 0 with a hand-driven clock, a real
 * store (SQLite file or PostgreSQL schema), a real sim connector over HTTP, and an engine whose passes the test
 * drives one by one (no cron), so every assertion is about state, never about timing.
 */
import type { Registry } from 'prom-client';
import { parseConfig, simSettingsOf, type TenantConfig } from '../../src/config.js';
import { SimConnector, type SimConnectorOptions } from '../../src/connectors/sim/sim-connector.js';
import { createLogger } from '../../src/logger.js';
import { createSimServer, type SimServer } from '../../src/sim/sim-server.js';
import type { SimFirmData } from '../../src/sim/sim-types.js';
import type { Store } from '../../src/store/database.js';
import { createSyncEngine, type SyncEngine } from '../../sync/sync-engine.js';
import { ManualClock } from '../sim/sim-harness.js';
import { frontDeskClient } from './front-desk-client.js';
import { TINY_PASSWORD, TINY_USERNAME } from './tiny-firm.js';

export { ManualClock };

export interface SyncHarnessFirm {
  /** Firm name in the sim, and tenant id in Switchboard. */
  name: string;
  data: SimFirmData;
}

export interface SyncHarness {
  sim: SimServer;
  clock: ManualClock;
  engine: SyncEngine;
  tenants: TenantConfig[];
  connectors: SimConnector[];
  /** A front-desk call on the sim's own API (as staff would make it), JSON in and out. */
  frontDesk<T = unknown>(
    firm: string,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }>;
  close(): Promise<void>;
}

export interface SyncHarnessOptions {
  firms: SyncHarnessFirm[];
  store: Store;
  clock?: ManualClock;
  tokenTtlSeconds?: number;
  /** Clock of the connector's token bookkeeping; defaults to the harness clock. */
  connectorNow?: () => number;
  client?: SimConnectorOptions['client'];
  metrics?: Registry;
}

export async function startSyncHarness(options: SyncHarnessOptions): Promise<SyncHarness> {
  const clock = options.clock ?? new ManualClock('2026-11-20T15:00:00Z');
  const credentials = [{ username: TINY_USERNAME, password: TINY_PASSWORD }];
  const sim = createSimServer({
    firms: Object.fromEntries(options.firms.map((f) => [f.name, { data: f.data, credentials }])),
    now: clock.now,
    tokenTtlSeconds: options.tokenTtlSeconds,
  });
  const baseUrl = await sim.start();
  const config = parseConfig({
    tenants: options.firms.map((f) => ({
      id: f.name,
      connector: {
        kind: 'sim',
        baseUrl,
        firm: f.name,
        username: TINY_USERNAME,
        password: TINY_PASSWORD,
        timeoutMs: 2000,
      },
      sync: { hotIntervalSeconds: 2, warmIntervalSeconds: 60, patientsIntervalSeconds: 10, horizonDays: 90 },
      // A loaded test run must not meet the agent-facing response deadline (202 booking-pending) by accident;
      // the tests of that deadline set their own.
      booking: { responseDeadlineMs: 30_000 },
    })),
  });
  const connectors = config.tenants.map(
    (tenant) =>
      new SimConnector({
        tenantId: tenant.id,
        settings: simSettingsOf(tenant),
        planningHorizonDays: tenant.booking.horizonDays,
        now: options.connectorNow ?? (() => clock.now().getTime()),
        client: { breakerHalfOpenAfterMs: 50, ...options.client },
      }),
  );
  const engine = createSyncEngine({
    store: options.store,
    tenants: config.tenants.map((tenant, i) => ({
      config: tenant,
      connector: connectors[i] as SimConnector,
    })),
    logger: createLogger('silent'),
    metrics: options.metrics,
    now: clock.now,
  });

  const frontDesk = frontDeskClient({
    tokenUrl: (firm) => `${baseUrl}/firm/${firm}/oauth/token`,
    url: (firm, path) => `${baseUrl}/firm/${firm}/api${path}`,
    contentType: 'application/json',
  });

  return {
    sim,
    clock,
    engine,
    tenants: config.tenants,
    connectors,
    frontDesk,
    async close() {
      await engine.stop();
      await Promise.all(connectors.map((c) => c.close()));
      await sim.stop();
    },
  };
}
