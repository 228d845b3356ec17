/**
 * How many calls each firm of the simulated records system has received (issue 11: several Switchboard instances
 * must look like one poller to the records system). Every `/firm/{firm}/…` call counts, refused ones included —
 * a real system's rate limit counts them too. Read with `GET /_sim/calls`.
 */

/** Calls per firm since the sim started (or was reset). */
export interface SimCallCounts {
  since: string;
  firms: Record<string, { calls: number }>;
}

export class SimCallCounter {
  private readonly counts = new Map<string, number>();
  private since: Date;

  constructor(private readonly now: () => Date) {
    this.since = now();
  }

  count(firm: string): void {
    this.counts.set(firm, (this.counts.get(firm) ?? 0) + 1);
  }

  snapshot(): SimCallCounts {
    return {
      since: this.since.toISOString(),
      firms: Object.fromEntries([...this.counts].map(([firm, calls]) => [firm, { calls }])),
    };
  }

  reset(): void {
    this.counts.clear();
    this.since = this.now();
  }
}
