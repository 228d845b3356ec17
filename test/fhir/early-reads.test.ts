/**
 * Reads run while their rate-limit count is on its way (`RateLimiter.admission`, issue 16): with the counters in
 * PostgreSQL the count is a round trip, and a read of a client well within its limit overlaps its own work with it.
 * What must not change: a request refused by the count is answered 429 and leaves no audit record, whatever its
 * work came to; a client near its limit waits for the count first.
 */
import type { Bundle } from '@medplum/fhirtypes';
import { RateLimiterMemory, type RateLimiterRes } from 'rate-limiter-flexible';
import { describe, expect, it, vi } from 'vitest';
import { createRateLimiter } from '../../fhir/request-limits.js';
import type { SearchSource } from '../../fhir/search/search-sources.js';
import { testStoreFactories } from '../support/test-stores.js';
import { expectOutcome, fhirGet, useSyncedFacade } from './support/fhir-http.js';

/** Counts in memory, each count held until the test opens the gate. */
class GatedCounter extends RateLimiterMemory {
  private gate: Promise<void> = Promise.resolve();
  private open: () => void = () => undefined;
  close(): void {
    this.gate = new Promise((resolve) => (this.open = resolve));
  }
  release(): void {
    this.open();
  }
  override async consume(key: string | number, points?: number): Promise<RateLimiterRes> {
    await this.gate;
    return super.consume(key, points);
  }
}

const TOKEN = 'early-reads-token';
const BURST = 8;
const counter = new GatedCounter({ points: BURST, duration: 600, keyPrefix: 'fhir-client' });
const limiter = createRateLimiter({ ratePerSecond: BURST / 600, burst: BURST, backend: () => counter });
/** Another instance counting the same client in the same counters. */
const otherInstance = createRateLimiter({ ratePerSecond: BURST / 600, burst: BURST, backend: () => counter });
/** Patient pages asked of this extra source: shows when a search's work ran. */
const pagesAsked = { n: 0 };
const spySource: SearchSource = {
  page: async () => {
    pagesAsked.n += 1;
    return [];
  },
  count: async () => 0,
};

describe.each(testStoreFactories.filter((f) => f.name === 'sqlite'))('early reads ($name)', (factory) => {
  const facade = useSyncedFacade(factory, {
    clients: { reader: TOKEN },
    admit: limiter.admission,
    searchSources: { Patient: [spySource] },
  });
  const auth = { authorization: `Bearer ${TOKEN}` };
  const auditedSearches = () => facade().audit.filter((r) => r.action === 'search').length;

  it("waits for a client's first count, then runs its reads while later counts are on their way", async () => {
    const h = facade();
    counter.close();
    const first = fhirGet<Bundle>(h, 'Patient?name=lee', auth);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(pagesAsked.n).toBe(0);
    counter.release();
    expect((await first).status).toBe(200);
    expect(pagesAsked.n).toBe(1);

    counter.close();
    const second = fhirGet<Bundle>(h, 'Patient?name=lee', auth);
    await vi.waitFor(() => expect(pagesAsked.n).toBe(2));
    const audited = auditedSearches();
    await new Promise((resolve) => setTimeout(resolve, 50));
    // Ran, but neither audited nor answered before its count.
    expect(auditedSearches()).toBe(audited);
    counter.release();
    const answer = await second;
    expect(answer.status).toBe(200);
    expect(answer.headers.get('ratelimit-remaining')).toBe(String(BURST - 2));
    expect(auditedSearches()).toBe(audited + 1);
  });

  it('answers 429 with no audit record when the count refuses a read that ran early', async () => {
    const h = facade();
    // Another instance spends the client's remaining requests; this one last saw plenty left.
    while ((await otherInstance.take(`${h.tenant}/reader`)).allowed);
    const audited = auditedSearches();
    const asked = pagesAsked.n;
    const refused = await fhirGet(h, 'Patient?name=lee', auth);
    expect(pagesAsked.n).toBe(asked + 1);
    const outcome = expectOutcome(refused, 429);
    expect(outcome.issue[0]?.code).toBe('throttled');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(JSON.stringify(refused.body)).not.toContain('"resourceType":"Patient"');
    expect(auditedSearches()).toBe(audited);

    // Near its limit now: the next read waits for its count and does no work.
    const next = await fhirGet(h, 'Patient?name=lee', auth);
    expectOutcome(next, 429);
    expect(pagesAsked.n).toBe(asked + 1);
    expect(auditedSearches()).toBe(audited);
  });
});
