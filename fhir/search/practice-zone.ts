/**
 * The zone search dates without a zone are read in (R4 search: "in the server's zone"). For a practice that is
 * the practice's own zone: the tenant's configured `timezone`, else the zone most of its synced Locations carry
 * (the standard `timezone` extension), else UTC.
 */
import type { Location } from '@medplum/fhirtypes';
import { isKnownZone } from '../../src/wall-time.js';
import type { FhirRequestContext } from '../access.js';

/** http://hl7.org/fhir/R4/extension-timezone.html */
const TIMEZONE_EXTENSION = 'http://hl7.org/fhir/StructureDefinition/timezone';
/** Enough Locations to find the practice's zone; a practice has a handful. */
const LOCATIONS_CONSULTED = 50;

export async function practiceZone(ctx: FhirRequestContext): Promise<string> {
  if (ctx.tenant.timezone) return ctx.tenant.timezone;
  const rows = await ctx.store.db
    .selectFrom('resources')
    .select('resource')
    .where('tenant_id', '=', ctx.tenant.id)
    .where('resource_type', '=', 'Location')
    .where('deleted', '=', 0)
    .orderBy('id')
    .limit(LOCATIONS_CONSULTED)
    .execute();
  const votes = new Map<string, number>();
  for (const row of rows) {
    const location = JSON.parse(row.resource) as Location;
    const zone = location.extension?.find((e) => e.url === TIMEZONE_EXTENSION)?.valueCode;
    if (zone && isKnownZone(zone)) votes.set(zone, (votes.get(zone) ?? 0) + 1);
  }
  let best: [string, number] | undefined;
  for (const vote of votes) if (!best || vote[1] > best[1]) best = vote;
  return best?.[0] ?? 'UTC';
}
