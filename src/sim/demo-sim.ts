/**
 * The simulated records system as the demo runs it (DESIGN.md section 2): firm `riverside` seeded with
 * Riverside Family Medicine relative to today, demo credentials `switchboard` / `demo-password`.
 */
import { instantToLocalDate } from '../wall-time.js';
import { buildDemoPractice } from './demo-practice.js';
import { createSimServer, type SimServer } from './sim-server.js';

export const DEMO_FIRM = 'riverside';
export const DEMO_CREDENTIALS = { username: 'switchboard', password: 'demo-password' } as const;
const DEMO_ZONE = 'America/New_York';

export interface RunningSim {
  readonly url: string;
  readonly server: SimServer;
  stop(): Promise<void>;
}

export interface DemoSimOptions {
  port?: number;
  host?: string;
  now?: () => Date;
}

export async function startDemoSim(options: DemoSimOptions = {}): Promise<RunningSim> {
  const now = options.now ?? (() => new Date());
  const data = buildDemoPractice({ today: instantToLocalDate(now(), DEMO_ZONE), now: now() });
  const server = createSimServer({
    firms: { [DEMO_FIRM]: { data, credentials: [DEMO_CREDENTIALS] } },
    now,
    host: options.host,
    port: options.port ?? 0,
  });
  const url = await server.start();
  return { url, server, stop: () => server.stop() };
}
