/**
 * Where a booking fault campaign's Switchboard runs: one app in the test's own process (`createApp`, a SQLite file
 * or a PostgreSQL database), or several instances as child processes on one fresh PostgreSQL database (issue 11),
 * each request going to the next live instance in turn, and one of them killed with SIGKILL and replaced mid-run.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../../../src/app.js';
import { parseConfig } from '../../../src/config.js';
import { createLogger } from '../../../src/logger.js';
import { createCluster } from '../../scale-out/support/cluster.js';

/** Several instances on one PostgreSQL server: a database of their own is created beside `adminUrl`. */
export interface ClusterPlan {
  adminUrl: string;
  instances: number;
}

export interface CampaignSwitchboards {
  /** The base URL (`http://host:port`) of the instance the next request goes to. */
  next(): string;
  /**
   * Several instances only: kills instance `pick(live count)` with SIGKILL (no cleanup of any kind) and starts a
   * new one in its place; says what it did.
   */
  disrupt?(pick: (count: number) => number): Promise<string>;
  close(): Promise<void>;
}

/** Starts Switchboard with `config` (the campaign's, without database or port) as `plan` says, and waits for it. */
export async function startSwitchboards(
  config: Record<string, unknown>,
  databaseUrl: string,
  plan?: ClusterPlan,
): Promise<CampaignSwitchboards> {
  if (!plan) {
    const app = createApp(parseConfig({ ...config, port: 0, databaseUrl }), {
      logger: createLogger('silent'),
    });
    await app.start();
    await waitUntilReady(app.url);
    return { next: () => app.url, close: () => app.stop() };
  }
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-campaign-cluster-'));
  const configFile = join(dir, 'switchboard.json');
  await writeFile(configFile, JSON.stringify(config));
  const cluster = await createCluster({
    adminUrl: plan.adminUrl,
    simUrl: '',
    configFile,
    // A killed instance's sagas are taken over within seconds, not after the default minute.
    env: { SWITCHBOARD_RECOVERY_INTERVAL_MS: '1000', SWITCHBOARD_SAGA_ABANDONED_MS: '10000' },
  });
  // One first, so the schema is migrated once before the others start (they would wait on the migration lock).
  await cluster.start();
  await Promise.all(Array.from({ length: plan.instances - 1 }, () => cluster.start()));
  await Promise.all(cluster.instances.map((i) => waitUntilReady(i.url)));
  let turn = 0;
  const live = () => cluster.instances.filter((i) => i.alive());
  return {
    next() {
      const instances = live();
      return (instances[turn++ % instances.length] ?? instances[0])?.url as string;
    },
    async disrupt(pick) {
      const victim = live()[pick(live().length)];
      if (!victim) return 'no instance to kill';
      await victim.kill9();
      // Listening is enough: requests go to it at once, ready or not (it may take the tenant's lease and meet the
      // records system's faults on its first pass; the facade serves the shared store meanwhile).
      const replacement = await cluster.start();
      return `killed ${victim.id} with SIGKILL; ${replacement.id} started in its place`;
    },
    async close() {
      await Promise.all(live().map((i) => i.stop()));
      await cluster.dispose();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function waitUntilReady(url: string): Promise<void> {
  // Generous: a first full sync on a loaded machine (the FHIR simulator scans its memory for every Slot search).
  for (let i = 0; i < 1_800; i++) {
    const response = await fetch(`${url}/readyz`).catch(() => undefined);
    if (response?.status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`Switchboard at ${url} never became ready`);
}
