/**
 * The FHIR records-system simulator as the demo runs it (issue 12): firm `riverside`, the same Riverside practice
 * as the proprietary simulator (src/sim/demo-sim.ts), the same demo user, and a demo client for the
 * client-credentials grant.
 */
import { buildDemoPractice } from '../sim/demo-practice.js';
import { DEMO_CREDENTIALS, DEMO_FIRM } from '../sim/demo-sim.js';
import type { SimFirmData } from '../sim/sim-types.js';
import { instantToLocalDate } from '../wall-time.js';
import { createFhirSimServer, type FhirSimServer } from './fhir-sim-server.js';

const DEMO_ZONE = 'America/New_York';
export const DEMO_FHIR_CLIENT = { clientId: 'switchboard', secret: 'demo-secret' } as const;

export interface RunningFhirSim {
  readonly url: string;
  readonly server: FhirSimServer;
  /** The practice it was seeded with (the same Riverside practice as the proprietary simulator's). */
  readonly practice: SimFirmData;
  stop(): Promise<void>;
}

export async function startDemoFhirSim(
  options: { port?: number; host?: string; now?: () => Date } = {},
): Promise<RunningFhirSim> {
  const now = options.now ?? (() => new Date());
  const data = buildDemoPractice({ today: instantToLocalDate(now(), DEMO_ZONE), now: now() });
  const server = createFhirSimServer({
    firms: { [DEMO_FIRM]: { data, credentials: [DEMO_CREDENTIALS], clients: [DEMO_FHIR_CLIENT] } },
    now,
    host: options.host,
    port: options.port ?? 0,
  });
  const url = await server.start();
  return { url, server, practice: data, stop: () => server.stop() };
}
