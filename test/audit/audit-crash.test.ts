/**
 * Issue 16: "every PHI access recorded" across a crash. Searches are audited by group commit and answered only
 * after their row committed, so killing the process at any moment (SIGKILL: no handler, no flush) can lose the
 * rows of requests still running — whose callers got no answer — but never the row of a request that was answered.
 *
 * A real Switchboard process (the demo over the simulated records system) serves concurrent Patient searches, each
 * with its own `X-Request-Id`; it is killed the moment a seeded number of answers has arrived, restarted on the same
 * store, and killed again. Afterwards every answered request id must be in the audit trail, and the trail's hash
 * chain must verify. The seed is printed; `AUDIT_CRASH_SEED` replays one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAuditTrail, verifyAuditTrail, type AuditEntry } from '../../src/audit/audit-trail.js';
import { startDemoSim, type RunningSim } from '../../src/sim/demo-sim.js';
import { createSeededRandom } from '../../src/sim/seeded-random.js';
import { openStore } from '../../src/store/database.js';
import {
  createCluster,
  eventually,
  type Cluster,
  type ClusterInstance,
} from '../scale-out/support/cluster.js';
import { fhir, readyz } from '../scale-out/support/cluster-probes.js';

const ADMIN_URL = process.env.TEST_DATABASE_URL;
const SEED = Number(process.env.AUDIT_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
const KILLS = 3;
const CONNECTIONS = 12;

const dialects = [
  { name: 'sqlite', skip: false },
  { name: 'postgres', skip: !ADMIN_URL },
] as const;

async function allAuditEntries(databaseUrl: string): Promise<{ entries: AuditEntry[]; verified: unknown }> {
  const store = await openStore(databaseUrl);
  try {
    const entries: AuditEntry[] = [];
    for (;;) {
      const page = await readAuditTrail(store, 'demo', { afterSeq: entries.at(-1)?.seq ?? 0, limit: 1000 });
      entries.push(...page);
      if (page.length < 1000) break;
    }
    return { entries, verified: await verifyAuditTrail(store, 'demo') };
  } finally {
    await store.close();
  }
}

describe.each(dialects)('audit rows of answered searches survive SIGKILL ($name)', ({ name, skip }) => {
  let sim: RunningSim;
  let cluster: Cluster;
  let directory: string | undefined;

  beforeAll(async () => {
    if (skip) return;
    sim = await startDemoSim({ port: 0 });
    directory = name === 'sqlite' ? mkdtempSync(join(tmpdir(), 'audit-crash-')) : undefined;
    cluster = await createCluster({
      adminUrl: directory ? { sqlite: `sqlite:${join(directory, 'store.sqlite')}` } : (ADMIN_URL as string),
      simUrl: sim.url,
      // One client, as fast as it can: the facade's per-client limit (20/s) would answer most with 429.
      env: { SWITCHBOARD_RATE_PER_SECOND: '100000' },
    });
  }, 60_000);

  afterAll(async () => {
    await cluster?.dispose();
    await sim?.stop();
    if (directory) rmSync(directory, { recursive: true, force: true });
  });

  it.skipIf(skip)(
    `keeps the row of every answered request, killed ${KILLS} times mid-stream (seed ${SEED})`,
    async () => {
      const random = createSeededRandom(SEED + (name === 'sqlite' ? 0 : 1));
      const answered: string[] = [];
      let sent = 0;
      for (let round = 0; round < KILLS; round++) {
        const instance: ClusterInstance = await cluster.start();
        await eventually(async () => ((await readyz(instance)).status === 200 ? true : undefined), 'ready');
        // Kill at a seeded point: some answers in, many requests still in their group commit.
        const killAfter = random.int(10, 150);
        let answeredThisRound = 0;
        const loop = async () => {
          while (instance.alive()) {
            const requestId = `crash-${SEED}-${sent++}`;
            try {
              const res = await fhir(instance, 'Patient?family=Smith', {
                headers: { 'X-Request-Id': requestId },
              });
              if (res.status !== 200) throw new Error(`search answered ${res.status}`);
              expect(res.headers.get('x-request-id')).toBe(requestId);
              answered.push(requestId);
              if (++answeredThisRound === killAfter) instance.process.kill('SIGKILL');
            } catch (err) {
              if (instance.alive() && !(err instanceof TypeError)) throw err;
            }
          }
        };
        await Promise.all(Array.from({ length: CONNECTIONS }, loop));
        await instance.kill9();
        expect(answeredThisRound).toBeGreaterThanOrEqual(killAfter);
      }

      const { entries, verified } = await allAuditEntries(cluster.databaseUrl);
      const recorded = new Set(entries.map((e) => e.requestId));
      const missing = answered.filter((id) => !recorded.has(id));
      expect(missing, `answered without an audit row (seed ${SEED})`).toEqual([]);
      expect(verified).toMatchObject({ ok: true });
      // Requests cut off by the kill may have rows too (committed, answer lost): never fewer rows than answers.
      expect(entries.filter((e) => e.requestId.startsWith(`crash-${SEED}-`)).length).toBeGreaterThanOrEqual(
        answered.length,
      );
    },
    300_000,
  );
});
