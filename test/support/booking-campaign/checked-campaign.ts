/**
 * One booking fault campaign run and its invariants, as the test suites, the command line and the benchmark run it
 * (issue 10): the records system's appointments noted first (what existed before any request), the seeded run, then
 * every invariant checked, with a report that says what agents were told and what broke.
 */
import type { CampaignHistory } from './campaign-history.js';
import { checkInvariants, type InvariantReport } from './campaign-invariants.js';
import { runCampaign } from './campaign-runner.js';
import type { CampaignWorld } from './campaign-world.js';

export interface CampaignReport {
  seed: number;
  operations: number;
  seconds: number;
  /** Appointments agents hold at the end. */
  held: number;
  /** What was done to the instances mid-run (several instances only). */
  disruptions: string[];
  answers: Record<string, number>;
  invariants: InvariantReport[];
}

export async function runCheckedCampaign(
  world: CampaignWorld,
  options: {
    seed: number;
    operations: number;
    /** How long each fault phase lasts (default 1 s); a short run over a slow records system wants longer. */
    phaseMs?: number;
  },
): Promise<{ history: CampaignHistory; report: CampaignReport }> {
  const seedAppointmentIds = new Set((await world.upstreamAppointments()).map((a) => a.id));
  const started = Date.now();
  const history = await runCampaign(world, {
    seed: options.seed,
    operations: options.operations,
    concurrency: 6,
    phaseMs: options.phaseMs ?? 1_000,
  });
  const invariants = await checkInvariants(world, history, seedAppointmentIds);
  return {
    history,
    report: {
      seed: options.seed,
      operations: options.operations,
      seconds: (Date.now() - started) / 1000,
      held: history.held.size,
      disruptions: history.disruptions,
      answers: history.answerCounts(),
      invariants,
    },
  };
}
