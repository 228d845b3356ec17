/**
 * The facade and webhook suites over both connectors (issue 12: "the same scenarios, the same invariants,
 * parameterized by tenant"): one whole Switchboard over real HTTP per `describe`, its tenant connected either to the
 * proprietary simulator (sim connector) or to the FHIR simulator on Medplum's engine (FHIR connector), on a fresh
 * database of each dialect. It is the booking fault campaign's world (test/support/booking-campaign/): the same
 * records-system abstraction (ground truth, the front desk through the records system's own API, faults), so the
 * scenarios here and the campaign's invariants speak of one thing.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import {
  campaignDatabases,
  type CampaignDatabase,
} from '../../../support/booking-campaign/campaign-databases.js';
import type { RecordsKind } from '../../../support/booking-campaign/campaign-records.js';
import { startCampaignWorld, type CampaignWorld } from '../../../support/booking-campaign/campaign-world.js';
import { expectValidFhir } from '../../../support/fhir-validators.js';

export interface ConnectorRun {
  records: RecordsKind;
  database: CampaignDatabase;
}

/** Per scenario: a whole Switchboard, its sync and the FHIR simulator share this process and a loaded machine. */
export const SCENARIO_TIMEOUT_MS = 180_000;

/** Every connector on every dialect the suite runs on. */
export const connectorRuns = (kinds: readonly RecordsKind[] = ['sim', 'fhir']): ConnectorRun[] =>
  campaignDatabases.flatMap((database) => kinds.map((records) => ({ records, database })));

/** A whole Switchboard with its records system for the `describe` it is called in. */
export function useConnectorWorld(
  run: ConnectorRun,
  options: { webhooks?: boolean } = {},
): () => CampaignWorld {
  let world: CampaignWorld | undefined;
  let dropDatabase: (() => Promise<void>) | undefined;
  let keyDir: string | undefined;
  beforeAll(async () => {
    // The validators load their definitions synchronously on first use: not while a webhook handshake waits.
    expectValidFhir({ resourceType: 'Basic', code: { text: 'warm-up' } });
    const db = await run.database.create();
    dropDatabase = db.drop;
    let config: Record<string, unknown> = {};
    if (options.webhooks) {
      keyDir = await mkdtemp(join(tmpdir(), 'fhirconn-webhook-key-'));
      const keyFile = join(keyDir, 'secret.key');
      await writeFile(keyFile, `${'ab'.repeat(32)}\n`);
      config = {
        secretKeyFile: keyFile,
        webhooks: {
          allowlist: ['127.0.0.0/8'],
          pollIntervalMs: 50,
          retry: { baseDelayMs: 10, maxDelayMs: 100, maxAgeSeconds: 600, maxAttempts: 100 },
        },
      };
    }
    // A generous time-out: these scenarios are about behaviour, not the faults the campaign injects.
    world = await startCampaignWorld({
      databaseUrl: db.url,
      agents: 1,
      upstreamTimeoutMs: 10_000,
      records: run.records,
      config,
      // Every answer definite (no `202 booking-pending` on a loaded machine): these scenarios are not about latency.
      booking: { responseDeadlineMs: 60_000 },
      frontDeskPatienceMs: 30_000,
    });
  }, 300_000);
  afterAll(async () => {
    await world?.close();
    await dropDatabase?.();
    if (keyDir) await rm(keyDir, { recursive: true, force: true });
  });
  return () => {
    if (!world) throw new Error('useConnectorWorld: not started');
    return world;
  };
}

/** Polls until `condition` holds (bounded); a failure says what it waited for. No timing is asserted. */
export async function eventually(
  condition: () => Promise<boolean> | boolean,
  what: string,
  timeoutMs = 90_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
