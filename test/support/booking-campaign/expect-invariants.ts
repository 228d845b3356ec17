/** The booking fault campaign's verdict in a vitest test (kept apart: the CLI and the benchmark run without vitest). */
import { expect } from 'vitest';
import type { CampaignReport } from './checked-campaign.js';

/**
 * In a test: every invariant by name with its count 0 (a failure message that says which broke, how often, with
 * examples), and the campaign did what it is for — some bookings landed.
 */
export function expectEveryInvariant(report: CampaignReport, context: Record<string, unknown> = {}): void {
  const message = JSON.stringify({ ...context, ...report }, null, 2);
  expect(Object.fromEntries(report.invariants.map((i) => [i.name, i.violations])), message).toEqual(
    Object.fromEntries(report.invariants.map((i) => [i.name, 0])),
  );
  expect(report.held, message).toBeGreaterThan(0);
}
