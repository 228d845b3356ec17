/**
 * What the simulated records system's HTTP layer shares within one sim instance. Built by `createSimServer`;
 * never a module-level singleton, so several sims can run in one process (DESIGN.md section 8).
 */
import type { SimTokenStore } from './sim-auth.js';
import type { SimCallCounter } from './sim-call-counter.js';
import type { SimFaultInjector } from './sim-faults.js';
import type { SimFirmState } from './sim-firm-state.js';
import type { SimRateLimiter } from './sim-rate-limit.js';

/** Shared services of one sim instance. */
export interface SimContext {
  /** The firm named in `/firm/{firm}`, or `undefined` when there is none. */
  firm(key: string): SimFirmState | undefined;
  tokens: SimTokenStore;
  rateLimiter: SimRateLimiter;
  /** Calls received per firm (`GET /_sim/calls`). */
  calls: SimCallCounter;
  faults: SimFaultInjector;
  /** Waits `ms` real milliseconds; pending waits are abandoned when the sim stops. */
  sleep(ms: number): Promise<void>;
  /** Restores every firm's seed, tokens, rate-limit windows and faults (`POST /_sim/reset`). */
  resetAll(): void;
  /** Told about unexpected handler errors, which the client only sees as a bare 500. */
  onError(error: unknown): void;
}
