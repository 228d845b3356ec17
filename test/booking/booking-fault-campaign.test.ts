/**
 * The booking fault campaign in the test suite (issue 10): a seeded, randomized run of ~150 operations — agents
 * booking with and without keys, giving up mid-request and retrying identically, rescheduling and cancelling, the
 * front desk booking and cancelling through the records system's own API — while the records system (the proprietary
 * simulator, or the FHIR one through the FHIR connector: issue 12) cycles through
 * latency, errors, time-outs, commit-then-fail and outages. After quiescing, the records system is the ground truth
 * for every invariant (test/support/booking-campaign/campaign-invariants.ts), each reported with its count.
 *
 * The seed is new on every run (so each CI run tries new interleavings) and printed; repeat a run with
 * `CAMPAIGN_SEED=<seed> npx vitest run test/booking/booking-fault-campaign.test.ts`, or outside vitest with
 * `npx tsx test/support/booking-campaign/run-campaign.ts <seed>`.
 */
import { randomBytes } from 'node:crypto';
import { describe, it } from 'vitest';
import { campaignDatabases as databases } from '../support/booking-campaign/campaign-databases.js';
import type { RecordsKind } from '../support/booking-campaign/campaign-records.js';
import { startCampaignWorld } from '../support/booking-campaign/campaign-world.js';
import { runCheckedCampaign } from '../support/booking-campaign/checked-campaign.js';
import { expectEveryInvariant } from '../support/booking-campaign/expect-invariants.js';

const OPERATIONS = 150;

/** Both connectors (issue 12): the proprietary simulator, and the FHIR R4 simulator through the FHIR connector. */
const recordsSystems: RecordsKind[] = ['sim', 'fhir'];
const runs = databases.flatMap((database) => recordsSystems.map((records) => ({ database, records })));

describe.each(runs)(
  'booking fault campaign ($records connector, $database.name)',
  ({ database, records }) => {
    it(`keeps every invariant over ${OPERATIONS} faulty operations`, { timeout: 420_000 }, async () => {
      const seed = Number(process.env.CAMPAIGN_SEED ?? randomBytes(4).readUInt32BE(0));
      console.log(`booking fault campaign (${records} connector, ${database.name}): seed ${seed}`);
      const db = await database.create();
      const world = await startCampaignWorld({
        databaseUrl: db.url,
        agents: 4,
        upstreamTimeoutMs: 1_200,
        records,
      });
      try {
        const { report } = await runCheckedCampaign(world, { seed, operations: OPERATIONS });
        expectEveryInvariant(report, { records, dialect: database.name });
      } finally {
        await world.close();
        await db.drop();
      }
    });
  },
);
