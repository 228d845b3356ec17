/**
 * The booking fault campaign of issue 10 across three instances (issue 11): its operations spread over three
 * Switchboard processes on one PostgreSQL database, each request to the next live instance, while the records system
 * cycles through its faults — and halfway through, one instance is killed with SIGKILL mid-request and another
 * started in its place. After quiescing, the records system is the ground truth for every invariant.
 *
 * The seed is new on every run and printed; repeat one with
 * `CAMPAIGN_SEED=<seed> npx vitest run test/scale-out/scale-out-campaign.test.ts`.
 * PostgreSQL only: several processes share a store only there.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { startCampaignWorld } from '../support/booking-campaign/campaign-world.js';
import { runCheckedCampaign } from '../support/booking-campaign/checked-campaign.js';
import { expectEveryInvariant } from '../support/booking-campaign/expect-invariants.js';

const ADMIN_URL = process.env.TEST_DATABASE_URL;
const OPERATIONS = 150;

describe.skipIf(!ADMIN_URL)('booking fault campaign over three instances', () => {
  it(
    `keeps every invariant over ${OPERATIONS} faulty operations with an instance killed and replaced mid-run`,
    { timeout: 600_000 },
    async () => {
      const seed = Number(process.env.CAMPAIGN_SEED ?? randomBytes(4).readUInt32BE(0));
      console.log(`booking fault campaign over three instances: seed ${seed}`);
      const world = await startCampaignWorld({
        agents: 4,
        upstreamTimeoutMs: 1_200,
        cluster: { adminUrl: ADMIN_URL as string, instances: 3 },
      });
      try {
        const { report } = await runCheckedCampaign(world, { seed, operations: OPERATIONS });
        console.log(JSON.stringify({ ...report, invariants: undefined }));
        expectEveryInvariant(report);
        // The campaign did what it is for here: an instance died mid-run.
        expect(report.disruptions, JSON.stringify(report)).toHaveLength(1);
        expect(report.disruptions[0], JSON.stringify(report)).toMatch(/^killed /);
      } finally {
        await world.close();
      }
    },
  );
});
