/**
 * The FHIR records-system simulator (issue 12): a FHIR R4 server of the kind ModMed, athenaPractice or Cerner
 * expose, built on Medplum's FHIR engine, with the proprietary simulator's fault model, token store and rate limit
 * (src/sim/), and field quirks. `createFhirSimServer` builds one instance with its own state, so tests run several
 * in one process on port 0; `npm run fhir-sim` and the demo run one on 127.0.0.1:4011.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FhirRouter } from '@medplum/fhir-router';
import type { MemoryRepository } from '@medplum/fhir-router';
import type { SimCredential } from '../sim/sim-auth.js';
import { SIM_DEFAULT_TOKEN_TTL_SECONDS, SimTokenStore } from '../sim/sim-auth.js';
import type { SimFaultControl } from '../sim/sim-server.js';
import { SIM_DEFAULT_SEED, SimFaultInjector, noSimFaults } from '../sim/sim-faults.js';
import { SimCallCounter } from '../sim/sim-call-counter.js';
import { SIM_DEFAULT_RATE_LIMIT_PER_MINUTE, SimRateLimiter } from '../sim/sim-rate-limit.js';
import type { SimFirmData } from '../sim/sim-types.js';
import { createFhirSimApp, type FhirSimContext } from './fhir-sim-app.js';
import { loadFhirDefinitions } from './fhir-sim-definitions.js';
import { FhirSimFirm } from './fhir-sim-firm.js';
import type { FhirSimClient } from './fhir-sim-oauth.js';
import { DEFAULT_FHIR_SIM_QUIRKS, parseFhirSimQuirksPatch, type FhirSimQuirks } from './fhir-sim-quirks.js';
import { buildFhirSimSeed } from './fhir-sim-seed.js';

export interface FhirSimFirmSeed {
  data: SimFirmData;
  /** Users of the password grant. */
  credentials: SimCredential[];
  /** Clients of the client-credentials grant (secret) and of `private_key_jwt` (public keys). */
  clients?: FhirSimClient[];
}

export interface FhirSimServerOptions {
  firms: Record<string, FhirSimFirmSeed>;
  now?: () => Date;
  tokenTtlSeconds?: number;
  rateLimitPerMinute?: number;
  quirks?: Partial<FhirSimQuirks>;
  seed?: number;
  host?: string;
  port?: number;
  onError?: (error: unknown) => void;
}

export interface FhirSimServer {
  start(): Promise<string>;
  stop(): Promise<void>;
  readonly url: string;
  /** `{url}/firm/{firm}/fhir`. */
  fhirBase(firm: string): string;
  /** `{url}/firm/{firm}/oauth/token`. */
  tokenUrl(firm: string): string;
  readonly faults: SimFaultControl;
  readonly quirks: { get(): FhirSimQuirks; set(patch: Partial<FhirSimQuirks>): FhirSimQuirks };
  /** The live repository of `firm` (a new one after `reset()`). */
  repository(firm: string): MemoryRepository;
  /** The same as `POST /_sim/reset`: seeds, tokens, rate-limit windows, faults and quirks restored. */
  reset(): void;
}

export function createFhirSimServer(options: FhirSimServerOptions): FhirSimServer {
  loadFhirDefinitions();
  const now = options.now ?? (() => new Date());
  const router = new FhirRouter();
  const firms = new Map<string, FhirSimFirm>();
  const credentials = new Map<string, readonly SimCredential[]>();
  const clients = new Map<string, readonly FhirSimClient[]>();
  for (const [key, seed] of Object.entries(options.firms)) {
    if (!/^[A-Za-z0-9_-]+$/.test(key))
      throw new RangeError(`firm name ${JSON.stringify(key)} is not URL-safe`);
    const firm = new FhirSimFirm(key, buildFhirSimSeed(seed.data, key, now()), router);
    firm.reset();
    firms.set(key, firm);
    credentials.set(key, structuredClone(seed.credentials));
    clients.set(key, structuredClone(seed.clients ?? []));
  }
  const tokens = new SimTokenStore(
    credentials,
    now,
    options.tokenTtlSeconds ?? SIM_DEFAULT_TOKEN_TTL_SECONDS,
  );
  const rateLimiter = new SimRateLimiter(now);
  const calls = new SimCallCounter(now);
  const faults = new SimFaultInjector(
    noSimFaults(options.rateLimitPerMinute ?? SIM_DEFAULT_RATE_LIMIT_PER_MINUTE),
    options.seed ?? SIM_DEFAULT_SEED,
  );
  const defaultQuirks: FhirSimQuirks = {
    ...DEFAULT_FHIR_SIM_QUIRKS,
    ...parseFhirSimQuirksPatch(options.quirks ?? {}),
  };
  let quirks = { ...defaultQuirks };
  const timers = new Set<NodeJS.Timeout>();
  const resetAll = () => {
    for (const firm of firms.values()) firm.reset();
    tokens.clear();
    rateLimiter.reset();
    calls.reset();
    faults.reset();
    quirks = { ...defaultQuirks };
  };
  const quirkControl = {
    get current() {
      return { ...quirks };
    },
    merge(patch: Partial<FhirSimQuirks>) {
      quirks = { ...quirks, ...parseFhirSimQuirksPatch(patch) };
      return { ...quirks };
    },
  };
  const ctx: FhirSimContext = {
    firm: (key) => firms.get(key),
    clients: (key) => clients.get(key) ?? [],
    tokens,
    rateLimiter,
    calls,
    faults,
    quirks: quirkControl,
    now,
    sleep: (ms) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          timers.delete(timer);
          resolve();
        }, ms);
        timers.add(timer);
      }),
    resetAll,
    onError: options.onError ?? (() => undefined),
  };
  const app = createFhirSimApp(ctx);

  let server: Server | undefined;
  let starting: Promise<string> | undefined;
  let baseUrl: string | undefined;
  const listen = async (): Promise<string> => {
    const listening = createServer(app);
    // Outlive the client's 4 s idle keep-alive (see src/sim/sim-server.ts).
    listening.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve, reject) => {
      listening.once('error', reject);
      listening.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
        listening.off('error', reject);
        resolve();
      });
    });
    server = listening;
    const address = listening.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    baseUrl = `http://${host}:${address.port}`;
    return baseUrl;
  };
  const url = () => {
    if (baseUrl === undefined) throw new Error('the FHIR sim is not started');
    return baseUrl;
  };

  return {
    start() {
      starting ??= listen().catch((error: unknown) => {
        starting = undefined;
        throw error;
      });
      return starting;
    },
    async stop() {
      await starting?.catch(() => undefined);
      const running = server;
      server = undefined;
      starting = undefined;
      baseUrl = undefined;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      if (!running) return;
      await new Promise<void>((resolve, reject) => {
        running.close((error) => (error ? reject(error) : resolve()));
        running.closeAllConnections();
      });
    },
    get url() {
      return url();
    },
    fhirBase: (firm) => `${url()}/firm/${firm}/fhir`,
    tokenUrl: (firm) => `${url()}/firm/${firm}/oauth/token`,
    faults: {
      get: () => faults.current,
      set: (patch) => faults.merge(patch),
      clear: () => {
        faults.reset();
        return faults.current;
      },
    },
    quirks: { get: () => quirkControl.current, set: (patch) => quirkControl.merge(patch) },
    repository(firm) {
      const found = firms.get(firm);
      if (!found) throw new RangeError(`unknown firm ${firm}`);
      return found.repository;
    },
    reset: resetAll,
  };
}
