/**
 * The simulated records system (DESIGN.md section 2): a deliberately non-FHIR, wall-time, rate-limited, fault-prone
 * stand-in for a closed EHR, in memory and deterministic. `createSimServer` builds one instance with its own state,
 * so tests can run several in one process on port 0; `npm run sim` and the demo run one on 127.0.0.1:4010.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isKnownZone } from '../wall-time.js';
import type { SimFaults, SimFirmData } from './sim-types.js';
import type { SimCredential } from './sim-auth.js';
import { SIM_DEFAULT_TOKEN_TTL_SECONDS, SimTokenStore } from './sim-auth.js';
import { createSimApp } from './sim-app.js';
import type { SimContext } from './sim-context.js';
import { SIM_DEFAULT_SEED, SimFaultInjector, noSimFaults } from './sim-faults.js';
import { SimFirmState } from './sim-firm-state.js';
import { SimCallCounter } from './sim-call-counter.js';
import { SIM_DEFAULT_RATE_LIMIT_PER_MINUTE, SimRateLimiter } from './sim-rate-limit.js';

/** One firm (practice) the sim serves: its seed records and the credentials its token endpoint accepts. */
export interface SimFirmSeed {
  data: SimFirmData;
  credentials: SimCredential[];
}

/** Options of `createSimServer`. */
export interface SimServerOptions {
  /** Firms by URL name (`riverside` → `/firm/riverside/…`). The seeds are deep-copied, never mutated. */
  firms: Record<string, SimFirmSeed>;
  /** The clock for token expiry, the rate-limit window and `createdAt`/`modifiedAt`. Default: the system clock. */
  now?: () => Date;
  /** Access-token lifetime. Default 300. */
  tokenTtlSeconds?: number;
  /** Calls per minute per firm before 429. Default 1,250. */
  rateLimitPerMinute?: number;
  /** Seed of the fault dice. Default fixed. */
  seed?: number;
  /** Default `127.0.0.1`. */
  host?: string;
  /** Default 0: any free port. */
  port?: number;
  /** Told about unexpected handler errors (the client sees only a bare 500). Default: ignore. */
  onError?: (error: unknown) => void;
}

/** Test-side control of the faults, the same as `GET`/`POST /_sim/faults`. */
export interface SimFaultControl {
  /** The faults in force. */
  get(): SimFaults;
  /** Merges a patch and returns the faults now in force; throws on an invalid patch. */
  set(patch: Partial<SimFaults>): SimFaults;
  /** Back to no faults and the default rate limit. */
  clear(): SimFaults;
}

/** A running (or runnable) simulated records system. */
export interface SimServer {
  /** Listens; resolves to the base URL (`http://127.0.0.1:4010`). Calling it again returns the same URL. */
  start(): Promise<string>;
  /** Stops listening and destroys every open connection, including calls left hanging by `timeoutRate`. */
  stop(): Promise<void>;
  /** The base URL; throws before `start()` has resolved. */
  readonly url: string;
  /** The firm names served. */
  readonly firmNames: readonly string[];
  readonly faults: SimFaultControl;
  /** The live in-memory records of `firm` (a new object after `reset()`); throws for an unknown firm. */
  state(firm: string): SimFirmData;
  /** The same as `POST /_sim/reset`: seeds, id counters, tokens, rate-limit windows and faults restored. */
  reset(): void;
}

/** Builds a simulated records system; nothing listens until `start()`. */
export function createSimServer(options: SimServerOptions): SimServer {
  const now = options.now ?? (() => new Date());
  const tokenTtlSeconds = options.tokenTtlSeconds ?? SIM_DEFAULT_TOKEN_TTL_SECONDS;
  if (!(tokenTtlSeconds > 0)) throw new RangeError('tokenTtlSeconds must be positive');
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 0;

  const firms = new Map<string, SimFirmState>();
  const credentials = new Map<string, readonly SimCredential[]>();
  for (const [key, seed] of Object.entries(options.firms)) {
    // The firm name is a path segment; anything else could never be addressed.
    if (!/^[A-Za-z0-9_-]+$/.test(key))
      throw new RangeError(`firm name ${JSON.stringify(key)} is not URL-safe`);
    if (!isKnownZone(seed.data.timezone))
      throw new RangeError(`firm ${key}: unknown zone ${seed.data.timezone}`);
    firms.set(key, new SimFirmState(key, seed.data, now));
    credentials.set(key, structuredClone(seed.credentials));
  }

  const tokens = new SimTokenStore(credentials, now, tokenTtlSeconds);
  const rateLimiter = new SimRateLimiter(now);
  const calls = new SimCallCounter(now);
  const faults = new SimFaultInjector(
    noSimFaults(options.rateLimitPerMinute ?? SIM_DEFAULT_RATE_LIMIT_PER_MINUTE),
    options.seed ?? SIM_DEFAULT_SEED,
  );
  const timers = new Set<NodeJS.Timeout>();

  const resetAll = (): void => {
    for (const firm of firms.values()) firm.reset();
    tokens.clear();
    rateLimiter.reset();
    calls.reset();
    faults.reset();
  };

  const ctx: SimContext = {
    firm: (key) => firms.get(key),
    tokens,
    rateLimiter,
    calls,
    faults,
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
  const app = createSimApp(ctx);

  let server: Server | undefined;
  let starting: Promise<string> | undefined;
  let baseUrl: string | undefined;

  const listen = async (): Promise<string> => {
    const listening = createServer(app);
    // Node's fetch keeps idle connections for 4 s; closing ours sooner (Node's default is 5 s, racing it) makes a
    // client reuse a socket the server is closing and see ECONNRESET. Outlive the client instead.
    listening.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve, reject) => {
      listening.once('error', reject);
      listening.listen(port, host, () => {
        listening.off('error', reject);
        resolve();
      });
    });
    server = listening;
    const address = listening.address() as AddressInfo;
    const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    baseUrl = `http://${shownHost}:${address.port}`;
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
      // Abandoned delays would otherwise hand a request to a handler after the sim is gone.
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      if (!running) return;
      await new Promise<void>((resolve, reject) => {
        running.close((error) => (error ? reject(error) : resolve()));
        // Keep-alive sockets and calls hung on purpose would keep close() waiting forever.
        running.closeAllConnections();
      });
    },
    get url() {
      if (baseUrl === undefined) throw new Error('the sim is not started');
      return baseUrl;
    },
    firmNames: [...firms.keys()],
    faults: {
      get: () => faults.current,
      set: (patch) => faults.merge(patch),
      clear: () => {
        faults.reset();
        return faults.current;
      },
    },
    state(firm) {
      const found = firms.get(firm);
      if (!found) throw new RangeError(`unknown firm ${firm}`);
      return found.data;
    },
    reset: resetAll,
  };
}
