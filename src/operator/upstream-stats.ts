/**
 * What this instance saw of each tenant's records system (issue 15): reachable or not, latency, calls per minute
 * against its rate limit, the last error — for the operator console — and the upstream metrics
 * (`switchboard_upstream_*`), labelled by tenant, endpoint template and outcome only.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { UpstreamCall, UpstreamObserver } from '../connectors/upstream-observer.js';

/** Calls remembered per tenant for the figures (a few minutes of a busy practice). */
const RECENT_CALLS = 2_000;
/** Latency percentiles are over this window. */
const LATENCY_WINDOW_MS = 5 * 60_000;
const MINUTE_MS = 60_000;

/** One tenant's records system as this instance saw it. */
export interface UpstreamSnapshot {
  /** `yes`: the last call was answered; `no`: it was not (down, timing out, circuit open); `unknown`: no call yet. */
  reachable: 'yes' | 'no' | 'unknown';
  /** Calls in the last minute. */
  callsLastMinute: number;
  rateLimitPerMinute: number;
  /** Median and 99th percentile of the calls of the last five minutes, in ms; null without calls. */
  p50Ms: number | null;
  p99Ms: number | null;
  latencySamples: number;
  lastCallAt: string | null;
  lastSuccessAt: string | null;
  lastError: { at: string; call: UpstreamCall } | null;
}

export interface UpstreamStats {
  /** The observer to give the tenant's connector. */
  observer(tenantId: string): UpstreamObserver;
  snapshot(tenantId: string): UpstreamSnapshot;
}

interface Seen {
  at: number;
  durationMs: number;
  answered: boolean;
}

interface TenantLog {
  recent: Seen[];
  lastSuccessAt: number | null;
  lastError: { at: number; call: UpstreamCall } | null;
}

/** Failures that mean the records system did not answer at all. */
const UNANSWERED = new Set<UpstreamCall['outcome']>(['unavailable', 'timeout']);

export function createUpstreamStats(options: {
  rateLimits: Readonly<Record<string, number>>;
  metrics?: Registry;
  now?: () => number;
}): UpstreamStats {
  const now = options.now ?? Date.now;
  const logs = new Map<string, TenantLog>();
  const log = (tenantId: string): TenantLog => {
    let entry = logs.get(tenantId);
    if (!entry) logs.set(tenantId, (entry = { recent: [], lastSuccessAt: null, lastError: null }));
    return entry;
  };
  const registers = options.metrics ? [options.metrics] : [];
  const calls = new Counter({
    name: 'switchboard_upstream_calls_total',
    help: 'Calls to the records system by tenant, endpoint (path template) and outcome (ok or the failure kind)',
    labelNames: ['tenant', 'endpoint', 'outcome'],
    registers,
  });
  const latency = new Histogram({
    name: 'switchboard_upstream_call_duration_seconds',
    help: 'Duration of calls to the records system (rate-limit waits and retries of one call included)',
    labelNames: ['tenant', 'endpoint'],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const callsPerMinute = (tenantId: string): number => {
    const since = now() - MINUTE_MS;
    return logs.get(tenantId)?.recent.filter((c) => c.at > since).length ?? 0;
  };
  new Gauge({
    name: 'switchboard_upstream_rate_limit_used_ratio',
    help: "Share of the records system's per-minute call limit used by this instance in the last minute",
    labelNames: ['tenant'],
    registers,
    collect() {
      for (const [tenant, limit] of Object.entries(options.rateLimits))
        this.set({ tenant }, callsPerMinute(tenant) / limit);
    },
  });

  return {
    observer(tenantId) {
      return (call) => {
        const entry = log(tenantId);
        const at = now();
        const answered = !UNANSWERED.has(call.outcome);
        entry.recent.push({ at, durationMs: call.durationMs, answered });
        if (entry.recent.length > RECENT_CALLS) entry.recent.splice(0, entry.recent.length - RECENT_CALLS);
        if (call.outcome === 'ok') entry.lastSuccessAt = at;
        else entry.lastError = { at, call };
        calls.inc({ tenant: tenantId, endpoint: call.endpoint, outcome: call.outcome });
        latency.observe({ tenant: tenantId, endpoint: call.endpoint }, call.durationMs / 1000);
      };
    },
    snapshot(tenantId) {
      const entry = logs.get(tenantId);
      const recent = entry?.recent ?? [];
      const last = recent.at(-1);
      const since = now() - LATENCY_WINDOW_MS;
      const durations = recent
        .filter((c) => c.at > since && c.answered)
        .map((c) => c.durationMs)
        .sort((a, b) => a - b);
      const iso = (ms: number | null | undefined) => (ms == null ? null : new Date(ms).toISOString());
      return {
        reachable: last === undefined ? 'unknown' : last.answered ? 'yes' : 'no',
        callsLastMinute: callsPerMinute(tenantId),
        rateLimitPerMinute: options.rateLimits[tenantId] ?? 0,
        p50Ms: percentile(durations, 0.5),
        p99Ms: percentile(durations, 0.99),
        latencySamples: durations.length,
        lastCallAt: iso(last?.at),
        lastSuccessAt: iso(entry?.lastSuccessAt),
        lastError: entry?.lastError
          ? { at: iso(entry.lastError.at) ?? '', call: entry.lastError.call }
          : null,
      };
    },
  };
}

/** Nearest-rank percentile of sorted values; null when there are none. */
function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? null;
}
