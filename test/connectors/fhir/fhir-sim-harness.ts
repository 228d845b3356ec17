/**
 * A FHIR records-system simulator with the tiny practice on port 0 and a hand-driven clock, and FHIR connectors
 * pointed at it over real HTTP (issue 12). The sim's clock drives token expiry and the rate-limit window; the
 * connector gets its own clock so a test can let the sim's token lapse while the connector still trusts it.
 */
import type { FhirConnectorSettings } from '../../../src/config-fhir-connector.js';
import type { FhirIdResolver } from '../../../src/connectors/connector.js';
import { FhirConnector, type FhirConnectorOptions } from '../../../src/connectors/fhir/fhir-connector.js';
import type { FhirSimClient } from '../../../src/fhir-sim/fhir-sim-oauth.js';
import { fhirSimSystems } from '../../../src/fhir-sim/fhir-sim-seed.js';
import {
  createFhirSimServer,
  type FhirSimServer,
  type FhirSimServerOptions,
} from '../../../src/fhir-sim/fhir-sim-server.js';
import { ManualClock } from '../../sim/sim-harness.js';
import { TINY_FIRM, TINY_PASSWORD, TINY_USERNAME, tinyFirm } from '../../support/tiny-firm.js';

export { ManualClock, TINY_FIRM };

export const TINY_CLIENT: FhirSimClient = { clientId: 'switchboard-client', secret: 'client-secret' };

export interface FhirSimHarness {
  sim: FhirSimServer;
  simClock: ManualClock;
  /** Settings for a tenant on the tiny firm with the password grant; override what a test needs. */
  settings(overrides?: Partial<FhirConnectorSettings>): FhirConnectorSettings;
  connector(
    overrides?: Partial<FhirConnectorSettings>,
    options?: Partial<FhirConnectorOptions>,
  ): FhirConnector;
  stop(): Promise<void>;
}

export async function startFhirSimHarness(
  options: Partial<FhirSimServerOptions> & { clients?: FhirSimClient[] } = {},
): Promise<FhirSimHarness> {
  const simClock = new ManualClock();
  const sim = createFhirSimServer({
    firms: {
      [TINY_FIRM]: {
        data: tinyFirm(),
        credentials: [{ username: TINY_USERNAME, password: TINY_PASSWORD }],
        clients: [TINY_CLIENT, ...(options.clients ?? [])],
      },
    },
    now: simClock.now,
    ...options,
  });
  await sim.start();
  const connectors: FhirConnector[] = [];
  const settings = (overrides: Partial<FhirConnectorSettings> = {}): FhirConnectorSettings => ({
    kind: 'fhir',
    baseUrl: sim.fhirBase(TINY_FIRM),
    auth: {
      method: 'password',
      tokenUrl: sim.tokenUrl(TINY_FIRM),
      username: TINY_USERNAME,
      password: TINY_PASSWORD,
    },
    capabilities: {},
    appointmentTypes: [
      { system: fhirSimSystems(TINY_FIRM).appointmentType, code: 'FU', minutes: 15, newPatientOnly: false },
      { system: fhirSimSystems(TINY_FIRM).appointmentType, code: 'NP', minutes: 45, newPatientOnly: true },
    ],
    workingHours: [],
    pageSize: 50,
    timeoutMs: 5_000,
    maxConcurrency: 4,
    ...overrides,
  });
  return {
    sim,
    simClock,
    settings,
    connector(overrides = {}, connectorOptions = {}) {
      const connector = new FhirConnector({
        tenantId: 'tiny',
        settings: settings(overrides),
        ...connectorOptions,
      });
      connectors.push(connector);
      return connector;
    },
    async stop() {
      for (const c of connectors) await c.close();
      await sim.stop();
    },
  };
}

/** A resolver that hands out `F1`, `F2`, … per (type, upstream id), as the store's id table would. */
export function testResolver(): FhirIdResolver & { ids: Map<string, string> } {
  const ids = new Map<string, string>();
  const resolve = ((type, upstreamId) => {
    const key = `${type}/${upstreamId}`;
    let id = ids.get(key);
    if (!id) ids.set(key, (id = `F${ids.size + 1}`));
    return id;
  }) as FhirIdResolver & { ids: Map<string, string> };
  resolve.ids = ids;
  return resolve;
}
