/**
 * The load generator of the HTTP benchmarks, in a process of its own so that it does not share an event loop with
 * the server it measures (what autocannon would be, written out: that tool is not a dependency).
 *
 * Started by `http-load.ts` with `fork()`; it runs each {@link LoadTask} it is sent and answers a {@link LoadReport}.
 * A task is a closed loop: `concurrency` workers, each sending one request, reading the whole answer and sending the
 * next, over Node's fetch (undici: keep-alive, one connection per worker in flight). Bounded by time and by count.
 */
import { performance } from 'node:perf_hooks';
import type { LoadReport, LoadRequest, LoadTask } from './http-load-protocol.js';

interface Outcome {
  ok: boolean;
  status: string;
  bytes: number;
  error?: string;
}

async function get(url: string, headers: Record<string, string>): Promise<Outcome> {
  const response = await fetch(url, { headers });
  const body = await response.arrayBuffer();
  return {
    ok: response.status === 200,
    status: String(response.status),
    bytes: body.byteLength,
    ...(response.status === 200
      ? {}
      : { error: `${url} answered ${response.status}: ${Buffer.from(body).toString('utf8').slice(0, 200)}` }),
  };
}

async function perform(request: LoadRequest): Promise<Outcome> {
  switch (request.kind) {
    case 'get':
      return get(request.url, request.headers);
    case 'token-then-gets': {
      const response = await fetch(request.tokenUrl, {
        method: 'POST',
        body: new URLSearchParams(request.form),
      });
      const text = await response.text();
      if (response.status !== 200) {
        return {
          ok: false,
          status: String(response.status),
          bytes: 0,
          error: `token endpoint answered ${response.status}: ${text.slice(0, 200)}`,
        };
      }
      const token = (JSON.parse(text) as { access_token: string }).access_token;
      const outcomes = await Promise.all(
        request.urls.map((url) => get(url, { authorization: `Bearer ${token}` })),
      );
      return outcomes.find((o) => !o.ok) ?? (outcomes.at(-1) as Outcome);
    }
  }
}

async function run(task: LoadTask): Promise<LoadReport> {
  const started = performance.now();
  const measureFrom = started + task.warmupMs;
  const deadline = measureFrom + task.durationMs;
  let issued = 0;
  let completed = 0;
  let total = 0;
  let errors = 0;
  let bodyBytes = 0;
  let firstError: string | undefined;
  const statuses: Record<string, number> = {};
  const latenciesMs: number[] = [];
  let lastDone = measureFrom;

  const worker = async () => {
    while (performance.now() < deadline && issued < task.maxRequests) {
      const request = task.requests[issued++ % task.requests.length] as LoadRequest;
      const sentAt = performance.now();
      let outcome: Outcome;
      try {
        outcome = await perform(request);
      } catch (error) {
        outcome = { ok: false, status: 'error', bytes: 0, error: String(error) };
      }
      const doneAt = performance.now();
      total++;
      if (doneAt < measureFrom || doneAt > deadline) continue;
      completed++;
      lastDone = Math.max(lastDone, doneAt);
      statuses[outcome.status] = (statuses[outcome.status] ?? 0) + 1;
      if (!outcome.ok) {
        errors++;
        firstError ??= outcome.error;
        continue;
      }
      bodyBytes = outcome.bytes;
      if (sentAt >= measureFrom) latenciesMs.push(doneAt - sentAt);
    }
  };
  await Promise.all(Array.from({ length: task.concurrency }, worker));
  // The window ends at the deadline, or earlier when the count cap stopped the loop.
  const elapsedMs = issued >= task.maxRequests ? lastDone - measureFrom : task.durationMs;
  return {
    id: task.id,
    completed,
    errors,
    statuses,
    ...(firstError === undefined ? {} : { firstError }),
    elapsedMs,
    latenciesMs,
    total,
    bodyBytes,
  };
}

process.on('message', (message) => {
  const task = message as LoadTask;
  run(task).then(
    (report) => process.send?.(report),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
});
process.on('disconnect', () => process.exit(0));
process.send?.('ready');
