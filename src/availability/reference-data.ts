/**
 * A tenant's Schedules and Locations as availability reads them, derived once and kept until one of them is
 * written (issue 16: the schedule rules and the practice zone were rebuilt from the store on every Slot and Patient
 * search). The stamp (`referenceStamp`) changes with every write of a Schedule or Location — a reference-data
 * sync, a new working-hours template, a migration — on whichever instance made it, so the next read rebuilds.
 */
import type { Location, Schedule } from '@medplum/fhirtypes';
import {
  locationRows,
  referenceStamp,
  scheduleRows,
  type ScheduleRow,
} from '../store/availability-queries.js';
import type { Store } from '../store/database.js';
import { deepFreeze } from '../deep-freeze.js';
import { isKnownZone } from '../wall-time.js';
import { locationZone, readScheduleRules, type ScheduleRules } from './schedule-rules.js';

/** Enough Locations to find the practice's zone; a practice has a handful. */
const LOCATIONS_CONSULTED = 50;
/** Far more than a practice has; the cache is per tenant. */
const MAX_REFERENCE_ROWS = 10_000;

/** One live Schedule row, parsed. Shared by every reader: never mutate it. */
export interface ReferenceSchedule {
  schedule: Readonly<Schedule> & { id: string };
  row: Readonly<ScheduleRow>;
  /** Its working hours and type rules, read once per stamp (every Slot search needs them). */
  rules: Readonly<ScheduleRules>;
}

export interface ReferenceData {
  /** The stamp it was derived at: equal stamps, equal reference data (values derived from it key on it). */
  readonly stamp: string;
  /** Live Schedules by id order. */
  readonly schedules: readonly ReferenceSchedule[];
  /** Live Locations by id. */
  readonly locations: ReadonlyMap<string, Readonly<Location>>;
  /** The known zone most Locations carry (of the first {@link LOCATIONS_CONSULTED} by id): the practice's, unless configured. */
  readonly majorityZone: string | undefined;
}

/**
 * The tenant's reference data, current as of this call: one stamp query when nothing changed.
 *
 * @see DESIGN.md section 4
 */
export async function referenceData(store: Store, tenantId: string): Promise<ReferenceData> {
  const stamp = await referenceStamp(store, tenantId);
  return store.derived.get(`availability-reference:${tenantId}`, stamp, async () => {
    const [schedules, locations] = [
      await scheduleRows(store, tenantId, { limit: MAX_REFERENCE_ROWS }),
      await locationRows(store, tenantId, { limit: MAX_REFERENCE_ROWS }),
    ];
    const parsedLocations = locations.map(
      (row) => [row.id, deepFreeze(JSON.parse(row.resource) as Location)] as const,
    );
    return {
      stamp,
      majorityZone: majorityZoneOf(parsedLocations.slice(0, LOCATIONS_CONSULTED).map(([, l]) => l)),
      schedules: schedules.map((row) => {
        const schedule = deepFreeze(JSON.parse(row.resource) as Schedule & { id: string });
        return { schedule, row: Object.freeze(row), rules: deepFreeze(readScheduleRules(schedule)) };
      }),
      locations: new Map(parsedLocations),
    };
  });
}

/** The zone most of `locations` carry that the runtime knows; undefined when none carries one. */
function majorityZoneOf(locations: readonly Location[]): string | undefined {
  const votes = new Map<string, number>();
  for (const location of locations) {
    const zone = locationZone(location);
    if (zone && isKnownZone(zone)) votes.set(zone, (votes.get(zone) ?? 0) + 1);
  }
  let best: [string, number] | undefined;
  for (const vote of votes) if (!best || vote[1] > best[1]) best = vote;
  return best?.[0];
}
