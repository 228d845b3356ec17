/**
 * Fault injection for the simulated records system (DESIGN.md section 2, `POST /_sim/faults`): latency, errors,
 * hangs, writes that commit and then fail, a lowered rate limit, an outage. The dice come from a seeded generator
 * so a test that sets a rate between 0 and 1 sees the same sequence on every run.
 */
import type { SimFaults } from './sim-types.js';
import { createSeededRandom, type SeededRandom } from './seeded-random.js';
import { invalidRequest } from './sim-http-error.js';

/** Default PRNG seed, fixed so runs are reproducible unless a test asks otherwise. */
export const SIM_DEFAULT_SEED = 20261124;

/** How a committed write fails: the connection drops before the answer, or the answer is a 500. */
export type SimCommitFailure = 'drop-connection' | 'answer-500';

const RATE_FIELDS = ['errorRate', 'timeoutRate', 'commitThenFailRate'] as const;
const MS_FIELDS = ['latencyMs', 'jitterMs'] as const;
/** Bounds the injected delay so a typo cannot park a request for hours. */
const MAX_DELAY_MS = 600_000;

/** No faults, with the given rate limit. */
export function noSimFaults(rateLimitPerMinute: number): SimFaults {
  return {
    latencyMs: 0,
    jitterMs: 0,
    errorRate: 0,
    timeoutRate: 0,
    commitThenFailRate: 0,
    rateLimitPerMinute,
    down: false,
  };
}

/**
 * A validated `Partial<SimFaults>`; unknown keys are refused so a misspelt fault never silently does nothing.
 * Throws a 400 `SimHttpError`.
 */
export function parseSimFaultsPatch(raw: unknown): Partial<SimFaults> {
  if (raw === undefined) return {};
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw invalidRequest('body', 'the body must be a JSON object');
  }
  const body = raw as Record<string, unknown>;
  const patch: Partial<SimFaults> = {};
  for (const [key, value] of Object.entries(body)) {
    if ((RATE_FIELDS as readonly string[]).includes(key)) {
      if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
        throw invalidRequest(key, `${key} must be a number from 0 to 1`);
      }
      patch[key as (typeof RATE_FIELDS)[number]] = value;
    } else if ((MS_FIELDS as readonly string[]).includes(key)) {
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_DELAY_MS) {
        throw invalidRequest(key, `${key} must be a number of milliseconds from 0 to ${MAX_DELAY_MS}`);
      }
      patch[key as (typeof MS_FIELDS)[number]] = value;
    } else if (key === 'rateLimitPerMinute') {
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
        throw invalidRequest(key, 'rateLimitPerMinute must be a whole number ≥ 0');
      }
      patch.rateLimitPerMinute = value;
    } else if (key === 'down') {
      if (typeof value !== 'boolean') throw invalidRequest(key, 'down must be true or false');
      patch.down = value;
    } else {
      throw invalidRequest(key, `unknown fault ${key}`);
    }
  }
  return patch;
}

/** The current faults of one sim and the dice that apply them. */
export class SimFaultInjector {
  private faults: SimFaults;
  private random: SeededRandom;
  private commitFailures = 0;

  constructor(
    private readonly defaults: SimFaults,
    private readonly seed: number = SIM_DEFAULT_SEED,
  ) {
    this.faults = { ...defaults };
    this.random = createSeededRandom(seed);
  }

  /** A copy of the faults in force. */
  get current(): SimFaults {
    return { ...this.faults };
  }

  /** Merges a patch (validated with `parseSimFaultsPatch`) and returns the faults now in force. */
  merge(patch: Partial<SimFaults>): SimFaults {
    this.faults = { ...this.faults, ...parseSimFaultsPatch(patch) };
    return this.current;
  }

  /** Back to no faults, and the dice back to their first throw. */
  reset(): void {
    this.faults = { ...this.defaults };
    this.random = createSeededRandom(this.seed);
    this.commitFailures = 0;
  }

  /** Milliseconds to wait before handling a call: the latency plus uniform jitter. */
  delayMs(): number {
    const { latencyMs, jitterMs } = this.faults;
    return latencyMs + (jitterMs > 0 ? this.random.int(0, jitterMs) : 0);
  }

  /** True when this call should never be answered. */
  shouldHang(): boolean {
    return this.roll(this.faults.timeoutRate);
  }

  /** True when this call should answer 500 without doing anything. */
  shouldFail(): boolean {
    return this.roll(this.faults.errorRate);
  }

  /**
   * After a write has committed: how it should fail, or `undefined` to answer normally. The two failure kinds
   * alternate (drop first), so a client sees both the lost-connection and the 500 flavours of an unknown outcome.
   */
  commitFailure(): SimCommitFailure | undefined {
    if (!this.roll(this.faults.commitThenFailRate)) return undefined;
    return this.commitFailures++ % 2 === 0 ? 'drop-connection' : 'answer-500';
  }

  // A zero rate never throws the dice, so turning one fault on does not shift the sequence of another.
  private roll(rate: number): boolean {
    if (rate <= 0) return false;
    if (rate >= 1) return true;
    return this.random.next() < rate;
  }
}
