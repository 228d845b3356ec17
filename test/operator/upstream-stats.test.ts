/**
 * What the console and metrics say about a records system (issue 15): reachable from the last call, latency
 * percentiles over answered calls, calls per minute against the limit, the last error kept; endpoint and route
 * templates carry no ids.
 */
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { endpointTemplate } from '../../src/connectors/upstream-observer.js';
import { routeTemplate } from '../../src/operator/http-metrics.js';
import { createUpstreamStats } from '../../src/operator/upstream-stats.js';
import { createSeededRandom } from '../../src/sim/seeded-random.js';

describe('upstream stats', () => {
  it('keeps p50 ≤ p99 within the observed range, counts the last minute only, and says reachable from the last call', async () => {
    let now = 1_000_000;
    const metrics = new Registry();
    const stats = createUpstreamStats({ rateLimits: { t: 100 }, metrics, now: () => now });
    expect(stats.snapshot('t')).toMatchObject({ reachable: 'unknown', callsLastMinute: 0, p50Ms: null });
    const observe = stats.observer('t');
    const random = createSeededRandom(7);
    const durations: number[] = [];
    for (let i = 0; i < 300; i++) {
      const ms = random.int(0, 500);
      durations.push(ms);
      observe({ endpoint: 'GET /appointments', outcome: 'ok', durationMs: ms });
      now += 100;
    }
    const s = stats.snapshot('t');
    expect(s.reachable).toBe('yes');
    expect(s.p50Ms).not.toBeNull();
    expect(s.p50Ms!).toBeLessThanOrEqual(s.p99Ms!);
    expect(s.p50Ms!).toBeGreaterThanOrEqual(Math.min(...durations));
    expect(s.p99Ms!).toBeLessThanOrEqual(Math.max(...durations));
    // 300 calls 100 ms apart: the last minute holds 600 slots' worth, i.e. all 300 minus those older than 60 s.
    expect(s.callsLastMinute).toBe(durations.filter((_, i) => 1_000_000 + i * 100 > now - 60_000).length);
    const ratio = (await metrics.getSingleMetric('switchboard_upstream_rate_limit_used_ratio')!.get())
      .values[0];
    expect(ratio?.value).toBe(s.callsLastMinute / 100);

    observe({ endpoint: 'GET /appointments', outcome: 'unavailable', durationMs: 5, error: 'circuit open' });
    expect(stats.snapshot('t')).toMatchObject({
      reachable: 'no',
      lastError: { call: { outcome: 'unavailable', error: 'circuit open' } },
    });
    // A refusal is an answer: reachable again, the last error kept.
    observe({ endpoint: 'POST /appointments', outcome: 'rejected', durationMs: 5, status: 400 });
    expect(stats.snapshot('t')).toMatchObject({
      reachable: 'yes',
      lastError: { call: { outcome: 'rejected' } },
    });
    now += 10 * 60_000;
    expect(stats.snapshot('t')).toMatchObject({ callsLastMinute: 0, p50Ms: null });
  });

  it('turns paths into templates without ids or queries', () => {
    expect(endpointTemplate('PUT', '/appointments/123?x=1')).toBe('PUT /appointments/{id}');
    expect(endpointTemplate('POST', '/appointments/77/cancel')).toBe('POST /appointments/{id}/cancel');
    expect(endpointTemplate('GET', '/Patient/f3a9c1de-0000-4bcd-9a11-3c2b1a000001')).toBe(
      'GET /Patient/{id}',
    );
    expect(endpointTemplate('GET', '/Patient/smith')).toBe('GET /Patient/{id}');
    expect(endpointTemplate('POST', '/Appointment/$book')).toBe('POST /Appointment/$book');
    expect(routeTemplate('/fhir/demo/Patient/abc/_history/3')).toBe(
      '/fhir/{tenant}/Patient/{id}/_history/{id}',
    );
    expect(routeTemplate('/fhir/demo/Subscription/s1/$status')).toBe(
      '/fhir/{tenant}/Subscription/{id}/$status',
    );
    expect(routeTemplate('/mcp/demo')).toBe('/mcp/{tenant}');
    expect(routeTemplate('/.env')).toBe('other');
    expect(routeTemplate('/fhir/demo/a/b/c/d/e/f/g')).toBe('/fhir/{tenant}/other');
  });
});
