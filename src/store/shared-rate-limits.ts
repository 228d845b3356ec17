/**
 * Where per-client request counts live (issue 11, DESIGN.md section 7): in the store's PostgreSQL database when
 * several instances share it, so N instances allow a client the rate once, not N times; in memory on SQLite (one
 * process). rate-limiter-flexible does the counting — a well-kept library instead of our own token bucket.
 * Its table `rate_limits` is created by migration 0009.
 */
import { RateLimiterMemory, RateLimiterPostgres, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Store } from './database.js';

export interface RateLimitBackendOptions {
  /** Requests allowed per window. */
  points: number;
  /** The window, in seconds. */
  durationSeconds: number;
  /** Keeps one limiter's keys apart from another's in the shared table. */
  keyPrefix: string;
}

/**
 * The counter store for a limiter: PostgreSQL's shared table when the store is PostgreSQL (with an in-memory
 * insurance limiter that takes over while the database does not answer, so an outage of the counters never turns
 * into refusing or erroring every request), else memory.
 *
 * @see https://github.com/animir/node-rate-limiter-flexible/wiki/PostgreSQL
 */
export function createRateLimitBackend(
  store: Store | undefined,
  options: RateLimitBackendOptions,
): RateLimiterAbstract {
  const common = {
    points: options.points,
    duration: options.durationSeconds,
    keyPrefix: options.keyPrefix,
  };
  if (!store?.postgres) return new RateLimiterMemory(common);
  return new RateLimiterPostgres({
    ...common,
    storeClient: store.postgres.pool,
    storeType: 'pool',
    schemaName: store.postgres.schema,
    tableName: 'rate_limits',
    tableCreated: true,
    // Expired rows are overwritten on the next request of their key; an hourly sweep removes the rest.
    clearExpiredByTimeout: true,
    insuranceLimiter: new RateLimiterMemory(common),
  });
}
