/**
 * `npm run bench [-- <name> …]`: runs the benchmarks (all, or the named ones) one after another, prints each one's
 * figures, and rewrites BENCHMARKS.md at the repository root with them, the machine and the date.
 *
 * To add a benchmark, write `bench/<name>.bench.ts` exporting `benchmark: Benchmark` and add it to BENCHMARKS.
 * Environment: `TEST_DATABASE_URL` adds PostgreSQL runs where a benchmark supports them; `BENCH_CPU_PROF=<dir>`
 * makes benchmarks that run work in child processes write `--cpu-prof` profiles there, and facade-search profile
 * one extra run per search of its own (in-process) server.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { Benchmark } from './benchmark.js';
import { currentMachine, describeMachine, loadAverage, renderBenchmarksFile, textTable } from './report.js';
import type { RecordedResult } from './report.js';

/** Every benchmark, in the order they run and appear in BENCHMARKS.md. */
const BENCHMARKS: ReadonlyArray<{ name: string; load: () => Promise<{ benchmark: Benchmark }> }> = [
  { name: 'sync-diff', load: () => import('./sync-diff.bench.js') },
  { name: 'change-to-store', load: () => import('./change-to-store.bench.js') },
  { name: 'facade-search', load: () => import('./facade-search.bench.js') },
  { name: 'booking', load: () => import('./booking.bench.js') },
  { name: 'webhooks', load: () => import('./webhooks.bench.js') },
  { name: 'scale-out', load: () => import('./scale-out.bench.js') },
  { name: 'fhir-connector', load: () => import('./fhir-connector.bench.js') },
  { name: 'mcp', load: () => import('./mcp.bench.js') },
  { name: 'retention', load: () => import('./retention.bench.js') },
];

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUTPUT = join(ROOT, 'BENCHMARKS.md');

async function main(args: string[]): Promise<number> {
  const unknown = args.filter((name) => !BENCHMARKS.some((b) => b.name === name));
  if (unknown.length > 0) {
    console.error(
      `unknown benchmark ${unknown.join(', ')}; known: ${BENCHMARKS.map((b) => b.name).join(', ')}`,
    );
    return 2;
  }
  const selected = args.length === 0 ? BENCHMARKS : BENCHMARKS.filter((b) => args.includes(b.name));
  const machine = currentMachine();
  const date = new Date();
  console.log(`Benchmarks on ${describeMachine(machine)}`);

  const recorded: RecordedResult[] = [];
  let failed = false;
  for (const entry of selected) {
    const { benchmark } = await entry.load();
    console.log(`\n== ${benchmark.name}: ${benchmark.title}`);
    const started = performance.now();
    const loadBefore = loadAverage();
    try {
      const result = await benchmark.run((line) => console.log(`  ${line}`));
      const durationSeconds = (performance.now() - started) / 1000;
      console.log('');
      for (const table of result.tables) console.log(`${textTable(table)}\n`);
      console.log(`  noise: ${result.noise}`);
      const load = { before: loadBefore, after: loadAverage() };
      console.log(
        `  (${durationSeconds.toFixed(0)} s; load average ${load.before.toFixed(2)} → ${load.after.toFixed(2)})`,
      );
      recorded.push({ benchmark, result, machine, date: new Date(), durationSeconds, load });
    } catch (error) {
      // One broken benchmark must not cost the figures of the others.
      failed = true;
      console.error(`  ${benchmark.name} failed:`, error);
    }
  }

  const previous = await readFile(OUTPUT, 'utf8').catch(() => undefined);
  const text = renderBenchmarksFile(
    BENCHMARKS.map((b) => b.name),
    recorded,
    previous,
    machine,
    date,
  );
  await writeFile(OUTPUT, text);
  console.log(`\nwrote ${OUTPUT}`);
  return failed ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
