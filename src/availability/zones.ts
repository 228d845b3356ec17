/**
 * The zones wall times are read in: a Schedule's working hours in its Location's zone, and search dates without a
 * zone in the practice's zone (R4 search: "in the server's zone").
 */
import type { Location } from '@medplum/fhirtypes';
import type { TenantConfig } from '../config.js';
import type { Store } from '../store/database.js';
import { referenceData, type ReferenceData } from './reference-data.js';
import { locationZone } from './schedule-rules.js';
import type { ScheduleRecord } from './schedules.js';

/**
 * Schedule id → IANA zone: its Location's, else the tenant's configured zone; Schedules with neither are absent.
 *
 * @see DESIGN.md section 4
 */
export async function scheduleZones(
  store: Store,
  tenant: TenantConfig,
  schedules: readonly ScheduleRecord[],
): Promise<Map<string, string>> {
  return zonesOf(await referenceData(store, tenant.id), tenant, schedules);
}

/**
 * {@link scheduleZones} over reference data a caller already holds (one freshness check per request).
 *
 * @see DESIGN.md section 4
 */
export function zonesOf(
  reference: ReferenceData,
  tenant: TenantConfig,
  schedules: readonly ScheduleRecord[],
): Map<string, string> {
  const zoneOfLocation = new Map<string, string>();
  for (const s of schedules) {
    if (!s.locationId || zoneOfLocation.has(s.locationId)) continue;
    const location = reference.locations.get(s.locationId);
    const zone = location && locationZone(location as Location);
    if (zone) zoneOfLocation.set(s.locationId, zone);
  }
  const zones = new Map<string, string>();
  for (const s of schedules) {
    const zone = (s.locationId ? zoneOfLocation.get(s.locationId) : undefined) ?? tenant.timezone;
    if (zone) zones.set(s.schedule.id, zone);
  }
  return zones;
}

/**
 * The practice's zone: the tenant's configured `timezone`, else the zone most of its synced Locations carry (the
 * standard `timezone` extension), else UTC.
 *
 * @see DESIGN.md section 4
 */
export async function practiceZone(
  store: Store,
  tenant: TenantConfig,
  reference?: ReferenceData,
): Promise<string> {
  if (tenant.timezone) return tenant.timezone;
  return (reference ?? (await referenceData(store, tenant.id))).majorityZone ?? 'UTC';
}
