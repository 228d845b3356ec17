/**
 * The zone search dates without a zone are read in (R4 search: "in the server's zone"): the practice's zone, as
 * availability knows it (`src/availability/zones.ts`).
 */
import { practiceZone as zoneOfPractice } from '../../src/availability/zones.js';
import type { FhirRequestContext } from '../access.js';

export async function practiceZone(ctx: FhirRequestContext): Promise<string> {
  if (ctx.tenant.timezone) return ctx.tenant.timezone;
  return zoneOfPractice(ctx.store, ctx.tenant, ctx.referenceData ? await ctx.referenceData() : undefined);
}
