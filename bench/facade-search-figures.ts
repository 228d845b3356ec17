/**
 * The facade-search benchmark's measured targets and the figures it reports of them (issue 16's aims).
 */
import type { LoadRequest } from './http-load-protocol.js';
import type { LoadSummary } from './http-load.js';
import type { Figure, FigureTable } from './benchmark.js';

export const CONCURRENCY = 50;
export const ROUNDS = 3;
export const AIM_P50_MS = 5;
const AIM_CEILING_SHARE = 0.5;
/** Issue 16: one request alone, at one connection. */
const AIM_SERIAL_P50_MS = 2;
/** The sim's default limit (DESIGN.md section 2), lifted for the runs so the no-Switchboard baseline can be measured. */
export const SIM_DEFAULT_CALLS_PER_MINUTE = 1250;

/**
 * What the load generator runs against: Switchboard; the same Switchboard requests with the audit write skipped
 * (`unaudited`, loaded rounds only, to measure the audit write path's share); the bare-express ceiling; the
 * records system without Switchboard.
 */
export type Target = 'ceiling' | 'switchboard' | 'unaudited' | 'upstream';
/** Targets of the loaded rounds. */
export const LOADED_TARGETS: readonly Target[] = ['ceiling', 'switchboard', 'unaudited', 'upstream'];
/** Targets of the one-connection runs. */
export const SERIAL_TARGETS = ['ceiling', 'switchboard', 'upstream'] as const;
export type SerialTarget = (typeof SERIAL_TARGETS)[number];

export interface Search {
  name: string;
  caption: string;
  requests: Record<Target, LoadRequest[]>;
  /** Upstream calls one no-Switchboard question takes. */
  upstreamCalls: number;
  entries: number;
  /** Issue 16's aims for this search: share of the ceiling's throughput and server CPU per request. */
  aims: { ceilingShare: number; cpuMs: number };
}

export interface Measured {
  loaded: Record<Target, LoadSummary>;
  serial: Record<SerialTarget, LoadSummary>;
  /** With `BENCH_CPU_PROF`: the share of an extra Switchboard run's profile samples spent in the audit write path. */
  profiledAuditShare?: number;
}

export const ms = (v: number) => `${v < 10 ? v.toFixed(2) : v.toFixed(1)} ms`;
const cpuMs = (s: LoadSummary) => (s.cpuMsPerRequest === undefined ? '—' : ms(s.cpuMsPerRequest));
const perSecond = (v: number) => `${Math.round(v).toLocaleString('en-US')} req/s`;
const runs = (s: LoadSummary) => s.throughputs.map((t) => Math.round(t).toLocaleString('en-US')).join(', ');
export const errorsOf = (s: LoadSummary) =>
  s.errors === 0
    ? '0'
    : `${s.errors} of ${s.requests} (${Object.entries(s.statuses)
        .filter(([status]) => status !== '200')
        .map(([status, n]) => `${status}: ${n}`)
        .join(', ')})`;

export function table(search: Search, m: Measured): FigureTable {
  const { ceiling, switchboard, upstream } = m.loaded;
  const share = switchboard.throughput / ceiling.throughput;
  const clean = switchboard.errors === 0;
  const figures: Figure[] = [
    {
      figure: `Switchboard throughput at ${CONCURRENCY} connections (median of ${ROUNDS} runs: ${runs(switchboard)})`,
      value: perSecond(switchboard.throughput),
    },
    {
      figure: `Switchboard p50 latency at ${CONCURRENCY} connections`,
      value: ms(switchboard.p50),
      aim: `≤ ${AIM_P50_MS} ms`,
      met: clean && switchboard.p50 <= AIM_P50_MS,
    },
    { figure: `Switchboard p99 latency at ${CONCURRENCY} connections`, value: ms(switchboard.p99) },
    {
      figure: 'Switchboard throughput / ceiling throughput (medians, same run)',
      value: `${(share * 100).toFixed(0)} %`,
      aim: `≥ ${AIM_CEILING_SHARE * 100} %`,
      met: clean && share >= AIM_CEILING_SHARE,
    },
    {
      figure: 'Switchboard throughput / ceiling throughput (issue 16 aim)',
      value: `${(share * 100).toFixed(0)} %`,
      aim: `≥ ${search.aims.ceilingShare * 100} %`,
      met: clean && share >= search.aims.ceilingShare,
    },
    {
      figure: 'Switchboard p50 / p99 on one connection (unloaded)',
      value: `${ms(m.serial.switchboard.p50)} / ${ms(m.serial.switchboard.p99)}`,
      aim: `p50 ≤ ${AIM_SERIAL_P50_MS} ms`,
      met: m.serial.switchboard.errors === 0 && m.serial.switchboard.p50 <= AIM_SERIAL_P50_MS,
    },
    { figure: 'Switchboard failed requests', value: errorsOf(switchboard) },
    {
      figure: 'server-process CPU per request: Switchboard / ceiling / records system (no Switchboard)',
      value: `${cpuMs(switchboard)} / ${cpuMs(ceiling)} / ${cpuMs(upstream)}`,
      aim: `Switchboard ≤ ${search.aims.cpuMs} ms`,
      met:
        clean &&
        switchboard.cpuMsPerRequest !== undefined &&
        switchboard.cpuMsPerRequest <= search.aims.cpuMs,
    },
    {
      figure: `ceiling (bare express, same ${search.entries}-entry Bundle, ${(switchboard.bodyBytes / 1024).toFixed(1)} KiB): throughput (runs: ${runs(ceiling)})`,
      value: perSecond(ceiling.throughput),
    },
    {
      figure: `ceiling p50 / p99 at ${CONCURRENCY} connections`,
      value: `${ms(ceiling.p50)} / ${ms(ceiling.p99)}`,
    },
    {
      figure: 'ceiling p50 / p99 on one connection',
      value: `${ms(m.serial.ceiling.p50)} / ${ms(m.serial.ceiling.p99)}`,
    },
    {
      figure: `without Switchboard (token + ${search.upstreamCalls - 1} records-system call(s) per question): throughput (runs: ${runs(upstream)})`,
      value: perSecond(upstream.throughput),
    },
    {
      figure: `without Switchboard p50 / p99 at ${CONCURRENCY} connections`,
      value: `${ms(upstream.p50)} / ${ms(upstream.p99)}`,
    },
    {
      figure: 'without Switchboard p50 / p99 on one connection',
      value: `${ms(m.serial.upstream.p50)} / ${ms(m.serial.upstream.p99)}`,
    },
    {
      figure: `without Switchboard, at the records system's default limit (${SIM_DEFAULT_CALLS_PER_MINUTE.toLocaleString('en-US')} calls/min)`,
      value: `≤ ${(SIM_DEFAULT_CALLS_PER_MINUTE / 60 / search.upstreamCalls).toFixed(1)} questions/s, for all callers together`,
    },
    { figure: 'without Switchboard failed requests', value: errorsOf(upstream) },
    {
      figure:
        'Switchboard ÷ without: throughput at 50 connections; one-connection p50 (without ÷ Switchboard, > 1 = Switchboard faster)',
      value: `${(switchboard.throughput / upstream.throughput).toFixed(2)}× ; ${(m.serial.upstream.p50 / m.serial.switchboard.p50).toFixed(2)}×`,
    },
    ...auditFigures(m),
  ];
  return { caption: search.caption, figures };
}

/** Issue 16: the audit write path's share of Switchboard's CPU, measured two ways (see the notes). */
function auditFigures(m: Measured): Figure[] {
  const audited = m.loaded.switchboard.cpuMsPerRequest;
  const unaudited = m.loaded.unaudited.cpuMsPerRequest;
  const figures: Figure[] = [];
  if (audited !== undefined && unaudited !== undefined)
    figures.push({
      figure:
        'audit write path: share of Switchboard CPU per request (Switchboard − the same requests with the audit ' +
        'write skipped, ÷ Switchboard; interleaved rounds of the same run)',
      value:
        `${(((audited - unaudited) / audited) * 100).toFixed(0)} % (${ms(audited - unaudited)} of ${ms(audited)}; ` +
        `without: ${ms(unaudited)})` +
        (m.loaded.unaudited.errors === 0
          ? ''
          : `; not comparable: the target without the audit write failed ${errorsOf(m.loaded.unaudited)}`),
    });
  if (m.profiledAuditShare !== undefined)
    figures.push({
      figure:
        'audit write path: share of profile samples with src/audit/ or src/store/audit-rows.ts on the stack ' +
        '(an extra Switchboard run under the sampling profiler)',
      value: `${(m.profiledAuditShare * 100).toFixed(0)} %`,
    });
  return figures;
}
