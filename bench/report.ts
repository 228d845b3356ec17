/**
 * Rendering benchmark results: aligned text tables for the terminal, and BENCHMARKS.md, where each benchmark owns a
 * marked section so that running one benchmark rewrites its section and keeps the others.
 */
import { cpus, loadavg, totalmem } from 'node:os';
import type { Benchmark, BenchmarkResult, Figure, FigureTable } from './benchmark.js';

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
}

export function currentMachine(): Machine {
  const all = cpus();
  return {
    cpu: all[0]?.model.trim() ?? 'unknown CPU',
    cores: all.length,
    memoryGiB: totalmem() / 1024 ** 3,
    node: process.version,
  };
}

export function describeMachine(machine: Machine): string {
  return `${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB.toFixed(1)} GiB RAM, Node ${machine.node}`;
}

/** The 1-minute load average: how much else wanted the CPUs while a benchmark ran. */
export function loadAverage(): number {
  return loadavg()[0] ?? 0;
}

/** A finished benchmark with the circumstances of its run. */
export interface RecordedResult {
  benchmark: Pick<Benchmark, 'name' | 'title'>;
  result: BenchmarkResult;
  machine: Machine;
  date: Date;
  durationSeconds: number;
  /** 1-minute load average when the benchmark started and when it ended. */
  load: { before: number; after: number };
}

function verdict(figure: Figure): string {
  if (figure.met === undefined) return '';
  return figure.met ? 'met' : 'MISSED';
}

/** The table as aligned plain text, for stdout. */
export function textTable(table: FigureTable): string {
  const rows = [
    ['figure', 'value', 'aim', ''],
    ...table.figures.map((f) => [f.figure, f.value, f.aim ?? '', verdict(f)]),
  ];
  const widths = [0, 1, 2, 3].map((c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((cell, c) => cell.padEnd(widths[c] ?? 0))
      .join('  ')
      .trimEnd();
  return [
    `  ${table.caption}`,
    ...rows.map((r, i) => `  ${line(r)}${i === 0 ? `\n  ${'-'.repeat(line(r).length)}` : ''}`),
  ].join('\n');
}

const escapeCell = (text: string) => text.replace(/\|/g, '\\|');

function markdownTable(table: FigureTable): string {
  return [
    `**${table.caption}**`,
    '',
    '| figure | value | aim | |',
    '|---|---|---|---|',
    ...table.figures.map(
      (f) =>
        `| ${escapeCell(f.figure)} | ${escapeCell(f.value)} | ${escapeCell(f.aim ?? '—')} | ${verdict(f)} |`,
    ),
  ].join('\n');
}

function describeLoad(recorded: RecordedResult): string {
  const { before, after } = recorded.load;
  const busy = Math.max(before, after) > recorded.machine.cores;
  return (
    `1-minute load average ${before.toFixed(2)} before, ${after.toFixed(2)} after` +
    (busy ? ' (more than the cores: other processes competed for the CPUs)' : '')
  );
}

const startMarker = (name: string) => `<!-- bench:${name} -->`;
const endMarker = (name: string) => `<!-- /bench:${name} -->`;

/** One benchmark's section of BENCHMARKS.md, between its markers. */
export function markdownSection(recorded: RecordedResult): string {
  const { benchmark, result } = recorded;
  return [
    startMarker(benchmark.name),
    `## ${benchmark.title} (\`${benchmark.name}\`)`,
    '',
    `Measured ${recorded.date.toISOString().slice(0, 16).replace('T', ' ')} UTC on ${describeMachine(recorded.machine)}; ` +
      `the benchmark took ${Math.round(recorded.durationSeconds)} s; ${describeLoad(recorded)}.`,
    '',
    ...result.tables.flatMap((t) => [markdownTable(t), '']),
    `Noise: ${result.noise}`,
    '',
    ...(result.notes.length > 0 ? [...result.notes.map((n) => `- ${n}`), ''] : []),
    endMarker(benchmark.name),
  ].join('\n');
}

/**
 * BENCHMARKS.md: the header, then one section per benchmark in `order`. Sections of this run replace their old
 * text; benchmarks not run this time keep the section `previous` held (with their own date and machine).
 */
export function renderBenchmarksFile(
  order: readonly string[],
  recorded: readonly RecordedResult[],
  previous: string | undefined,
  machine: Machine,
  date: Date,
): string {
  const fresh = new Map(recorded.map((r) => [r.benchmark.name, markdownSection(r)]));
  const sections = order.flatMap((name) => {
    const section = fresh.get(name) ?? previousSection(previous, name);
    return section === undefined ? [] : [section];
  });
  return [
    '# Benchmarks',
    '',
    'Written by `npm run bench` (`bench/run.ts`); `npm run bench -- <name>` reruns one benchmark and rewrites only its',
    'section. Do not edit by hand. Figures are measurements on the machine named in each section, not guarantees;',
    'tests never assert timings (DESIGN.md section 8).',
    '',
    `Last run: ${date.toISOString().slice(0, 16).replace('T', ' ')} UTC on ${describeMachine(machine)}.`,
    '',
    ...sections.flatMap((s) => [s, '']),
  ].join('\n');
}

function previousSection(previous: string | undefined, name: string): string | undefined {
  if (previous === undefined) return undefined;
  const start = previous.indexOf(startMarker(name));
  const end = previous.indexOf(endMarker(name));
  if (start < 0 || end < start) return undefined;
  return previous.slice(start, end + endMarker(name).length);
}
