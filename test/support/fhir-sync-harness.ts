/**
 * The sync harness (sync-harness.ts) with the FHIR records-system simulator and the FHIR connector in place of the
 * proprietary pair (issue 12): same tiny practice, same hand-driven clock, same real store and engine, so booking
 * and sync scenarios can run against both connectors. The front desk acts with plain FHIR writes.
 */
import type { Resource } from '@medplum/fhirtypes';
import { parseConfig, type TenantConfig } from '../../src/config.js';
import { createConnector } from '../../src/connectors/create-connector.js';
import type { Connector } from '../../src/connectors/connector.js';
import { fhirSimSystems } from '../../src/fhir-sim/fhir-sim-seed.js';
import { createFhirSimServer, type FhirSimServer } from '../../src/fhir-sim/fhir-sim-server.js';
import { createLogger } from '../../src/logger.js';
import type { SimFirmData } from '../../src/sim/sim-types.js';
import type { Store } from '../../src/store/database.js';
import { createSyncEngine, type SyncEngine } from '../../sync/sync-engine.js';
import { ManualClock } from '../sim/sim-harness.js';
import { frontDeskClient } from './front-desk-client.js';
import { TINY_PASSWORD, TINY_USERNAME } from './tiny-firm.js';

export interface FhirSyncHarness {
  sim: FhirSimServer;
  clock: ManualClock;
  engine: SyncEngine;
  tenants: TenantConfig[];
  connectors: Connector[];
  /** A front-desk FHIR call on the simulator (`path` relative to the firm's FHIR base), JSON in and out. */
  frontDesk<T = Resource>(
    firm: string,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }>;
  close(): Promise<void>;
}

export async function startFhirSyncHarness(options: {
  firms: Array<{ name: string; data: SimFirmData }>;
  store: Store;
  clock?: ManualClock;
}): Promise<FhirSyncHarness> {
  const clock = options.clock ?? new ManualClock('2026-11-20T15:00:00Z');
  const credentials = [{ username: TINY_USERNAME, password: TINY_PASSWORD }];
  const sim = createFhirSimServer({
    firms: Object.fromEntries(options.firms.map((f) => [f.name, { data: f.data, credentials }])),
    now: clock.now,
  });
  await sim.start();
  const config = parseConfig({
    tenants: options.firms.map((f) => ({
      id: f.name,
      connector: {
        kind: 'fhir',
        baseUrl: sim.fhirBase(f.name),
        auth: {
          method: 'password',
          tokenUrl: sim.tokenUrl(f.name),
          username: TINY_USERNAME,
          password: TINY_PASSWORD,
        },
        appointmentTypes: f.data.appointmentTypes.map((t) => ({
          system: fhirSimSystems(f.name).appointmentType,
          code: t.code,
          display: t.name,
          minutes: t.durationMinutes,
          newPatientOnly: t.newPatientOnly,
        })),
        timeoutMs: 2000,
      },
      sync: { hotIntervalSeconds: 2, warmIntervalSeconds: 60, patientsIntervalSeconds: 10, horizonDays: 60 },
      booking: { responseDeadlineMs: 30_000, horizonDays: 60 },
    })),
  });
  const connectors = config.tenants.map((tenant) => createConnector(tenant, { now: clock.now }));
  const engine = createSyncEngine({
    store: options.store,
    tenants: config.tenants.map((tenant, i) => ({ config: tenant, connector: connectors[i] as Connector })),
    logger: createLogger('silent'),
    now: clock.now,
  });
  const frontDesk = frontDeskClient({
    tokenUrl: (firm) => sim.tokenUrl(firm),
    url: (firm, path) => `${sim.fhirBase(firm)}/${path}`,
    contentType: 'application/fhir+json',
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
