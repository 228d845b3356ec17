/**
 * Runs one booking fault campaign from the command line and prints what agents were told and every invariant's
 * violations: `npx tsx test/support/booking-campaign/run-campaign.ts [seed] [operations] [database URL] [instances]`
 * (default: a random seed, 150 operations, a SQLite file in a temp folder, one instance in this process; with
 * several instances, the URL is a PostgreSQL server's and they run as child processes, one killed mid-run).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCampaignWorld } from './campaign-world.js';
import { runCheckedCampaign } from './checked-campaign.js';

const seed = Number(process.argv[2] ?? randomBytes(4).readUInt32BE(0));
const operations = Number(process.argv[3] ?? 150);
const instances = Number(process.argv[5] ?? 1);
const dir = await mkdtemp(join(tmpdir(), 'switchboard-campaign-'));
const world = await startCampaignWorld({
  // Several instances: the URL is the PostgreSQL server's, and a database of their own is made beside it.
  ...(instances > 1
    ? { cluster: { adminUrl: process.argv[4] as string, instances } }
    : { databaseUrl: process.argv[4] ?? join(dir, 'store.sqlite') }),
  agents: 4,
  upstreamTimeoutMs: 1_200,
  // CAMPAIGN_RECORDS=fhir: against the FHIR R4 simulator through the FHIR connector (issue 12); fhir-hours: the
  // same simulator publishing no Slots, free time computed from the practice's configured working hours.
  records:
    process.env.CAMPAIGN_RECORDS === 'fhir' || process.env.CAMPAIGN_RECORDS === 'fhir-hours'
      ? process.env.CAMPAIGN_RECORDS
      : 'sim',
});
try {
  const { report } = await runCheckedCampaign(world, { seed, operations });
  console.log(JSON.stringify({ records: world.records.kind, ...report }, null, 2));
  process.exitCode = report.invariants.some((i) => i.violations > 0) ? 1 : 0;
} finally {
  await world.close();
  await rm(dir, { recursive: true, force: true });
}
