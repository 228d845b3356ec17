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
import { checkInvariants } from '../support/booking-campaign/campaign-invariants.js';
import { runCampaign } from '../support/booking-campaign/campaign-runner.js';
import { startCampaignWorld } from '../support/booking-campaign/campaign-world.js';

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
        const seedAppointmentIds = new Set((await world.upstreamAppointments()).map((a) => a.id));
        const started = Date.now();
        const history = await runCampaign(world, {
          seed,
          operations: OPERATIONS,
          concurrency: 6,
          phaseMs: 1_000,
        });
        const invariants = await checkInvariants(world, history, seedAppointmentIds);
        const report = {
          seed,
          seconds: (Date.now() - started) / 1000,
          disruptions: history.disruptions,
          answers: history.answerCounts(),
          invariants,
        };
        console.log(JSON.stringify({ ...report, invariants: undefined }));
        expect(
          Object.fromEntries(invariants.map((i) => [i.name, i.violations])),
          JSON.stringify(report, null, 2),
        ).toEqual(Object.fromEntries(invariants.map((i) => [i.name, 0])));
        // The campaign did what it is for: an instance died mid-run, and bookings landed.
        expect(history.disruptions, JSON.stringify(report)).toHaveLength(1);
        expect(history.disruptions[0], JSON.stringify(report)).toMatch(/^killed /);
        expect(history.held.size, JSON.stringify(report)).toBeGreaterThan(0);
      } finally {
        await world.close();
      }
    },
  );
});
