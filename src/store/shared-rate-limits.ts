/**
 * Where per-client request counts live (issue 11, DESIGN.md section 7): in the store's PostgreSQL database when
 * several instances share it, so N instances allow a client the rate once, not N times; in memory on SQLite (one
 * process). rate-limiter-flexible does the counting — a well-kept library instead of our own token bucket.
 * Its table `rate_limits` is created by migration 0009.
 */
import { RateLimiterMemory, RateLimiterPostgres, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { createGroupCommit, type GroupCommit } from './group-commit.js';
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
  return new BatchedRateLimiterPostgres({
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

/** The row the library's `_upsert` resolves with (a `pg` result): the key's points and expiry after the change. */
interface UpsertResult {
  rows: Array<{ points: number; expire: number | null }>;
}

interface UpsertCall {
  key: string;
  points: number;
  expire: number | null;
  result?: UpsertResult;
}

type PostgresOptions = ConstructorParameters<typeof RateLimiterPostgres>[0];

/** What this relies on of the library beyond its typings (rate-limiter-flexible 11.4.0, RateLimiterPostgres.js). */
interface LibraryInternals {
  _upsert(key: string, points: number, msDuration: number, forceExpire?: boolean): Promise<UpsertResult>;
  /** `"schema"."table"`. */
  _getTableIdentifier(): string;
  /** Runs a statement on a pool connection, its name prefixed with the table's. */
  _query(query: { name: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
}

const library = RateLimiterPostgres.prototype as unknown as LibraryInternals;

/**
 * rate-limiter-flexible's PostgreSQL limiter, with the counter upserts of concurrent requests sent as one statement
 * (issue 16): the library sends one `INSERT … ON CONFLICT DO UPDATE` per request, a round trip and a statement
 * each, while requests that arrive together can share one. The counting is the library's: this replaces only its
 * `_upsert` (pinned version 11.4.0), the method every `consume` ends in, and keeps its outcome exact: the calls of a
 * group are applied in arrival order, each seeing the key's points after itself and those before it, as if the
 * statements had run one after another; the statement adds up each key's points and the same `CASE` restarts an
 * expired window. A failed statement fails every call of its group, and the library's insurance limiter answers
 * each as it would one failed statement.
 */
class BatchedRateLimiterPostgres extends RateLimiterPostgres {
  private readonly upserts: GroupCommit<UpsertCall>;

  constructor(options: PostgresOptions) {
    super(options);
    this.upserts = createGroupCommit<UpsertCall>({ commit: (calls) => this.upsertMany(calls), eager: true });
  }

  /** The library's per-request upsert, batched; `forceExpire` (penalties, blocks: unused here) stays the library's. */
  async _upsert(key: string, points: number, msDuration: number, forceExpire = false): Promise<UpsertResult> {
    if (forceExpire) return library._upsert.call(this, key, points, msDuration, forceExpire);
    const call: UpsertCall = { key, points, expire: msDuration > 0 ? Date.now() + msDuration : null };
    await this.upserts.submit(call);
    return call.result as UpsertResult;
  }

  private async upsertMany(calls: readonly UpsertCall[]): Promise<void> {
    const byKey = new Map<string, { points: number; expire: number | null }>();
    for (const call of calls) {
      const sum = byKey.get(call.key);
      if (sum) sum.points += call.points;
      else byKey.set(call.key, { points: call.points, expire: call.expire });
    }
    const table = library._getTableIdentifier.call(this);
    const result = (await library._query.call(this, {
      name: 'rlflx-upsert-many',
      text: `insert into ${table} as r (key, points, expire)
        select * from unnest($1::varchar[], $2::int[], $3::bigint[])
        on conflict (key) do update set
          points = case when r.expire <= $4 then excluded.points else r.points + excluded.points end,
          expire = case when r.expire <= $4 then excluded.expire else r.expire end
        returning key, points, expire`,
      values: [
        [...byKey.keys()],
        [...byKey.values()].map((sum) => sum.points),
        [...byKey.values()].map((sum) => sum.expire),
        Date.now(),
      ],
    })) as { rows: Array<{ key: string; points: number; expire: string | number | null }> };
    const after = new Map(result.rows.map((row) => [row.key, row]));
    // Walking back from each key's final points gives every call the points as of its own turn.
    const remaining = new Map([...after].map(([key, row]) => [key, row.points]));
    for (let i = calls.length - 1; i >= 0; i--) {
      const call = calls[i] as UpsertCall;
      const row = after.get(call.key);
      if (!row) throw new Error(`rate limit upsert returned no row for ${call.key}`);
      const points = remaining.get(call.key) as number;
      call.result = { rows: [{ points, expire: row.expire === null ? null : Number(row.expire) }] };
      remaining.set(call.key, points - call.points);
    }
  }
}
