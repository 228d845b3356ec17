/**
 * How many calls each firm of the simulated records system has received (issue 11: several Switchboard instances
 * must look like one poller to the records system). Every `/firm/{firm}/…` call counts, refused ones included —
 * a real system's rate limit counts them too. Read with `GET /_sim/calls`.
 */
import { createHash } from 'node:crypto';

/** Calls per firm since the sim started (or was reset), in all and per caller. */
export interface SimCallCounts {
  since: string;
  /** `callers`: by a digest of the bearer token (each Switchboard instance logs in on its own), or `token-endpoint`. */
  firms: Record<string, { calls: number; callers: Record<string, number> }>;
}

export class SimCallCounter {
  private readonly counts = new Map<string, Map<string, number>>();
  private since: Date;

  constructor(private readonly now: () => Date) {
    this.since = now();
  }

  count(firm: string, authorization: string | undefined): void {
    const caller = authorization
      ? createHash('sha256').update(authorization).digest('hex').slice(0, 12)
      : 'token-endpoint';
    const callers = this.counts.get(firm) ?? new Map<string, number>();
    callers.set(caller, (callers.get(caller) ?? 0) + 1);
    this.counts.set(firm, callers);
  }

  snapshot(): SimCallCounts {
    return {
      since: this.since.toISOString(),
      firms: Object.fromEntries(
        [...this.counts].map(([firm, callers]) => [
          firm,
          { calls: [...callers.values()].reduce((a, b) => a + b, 0), callers: Object.fromEntries(callers) },
        ]),
      ),
    };
  }

  reset(): void {
    this.counts.clear();
    this.since = this.now();
  }
}
