/**
 * The zone search dates without a zone are read in (R4 search: "in the server's zone"): the practice's zone, as
 * availability knows it (`src/availability/zones.ts`).
 */
import { practiceZone as zoneOfPractice } from '../../src/availability/zones.js';
import type { FhirRequestContext } from '../access.js';

export function practiceZone(ctx: FhirRequestContext): Promise<string> {
  return zoneOfPractice(ctx.store, ctx.tenant);
}
