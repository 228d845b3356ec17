/**
 * Schedules (practitioner × location) as booking requests need them: which practitioner and location a slot's
 * Schedule stands for, where a practitioner works, and the appointment types a Schedule offers.
 */
import type { Location, Practitioner, Reference, Schedule } from '@medplum/fhirtypes';
import {
  locationZone,
  readScheduleRules,
  type AppointmentTypeRule,
} from '../../src/availability/schedule-rules.js';
import type { Store } from '../../src/store/database.js';
import { readResource } from '../../src/store/resource-store.js';

export interface LoadedSchedule {
  schedule: Schedule & { id: string };
  practitionerId: string;
  locationId: string;
}

/** The Schedule with this id, when it is live and names a practitioner and a location. */
export async function loadSchedule(
  store: Store,
  tenantId: string,
  id: string,
): Promise<LoadedSchedule | undefined> {
  const rows = await scheduleRows(store, tenantId, { id });
  return rows[0];
}

/** The live Schedules of a practitioner (one per location where they work), active ones first. */
export function schedulesOf(
  store: Store,
  tenantId: string,
  practitionerId: string,
): Promise<LoadedSchedule[]> {
  return scheduleRows(store, tenantId, { practitionerId });
}

/** Every live Schedule of the tenant (a practice has a few dozen). */
export function allSchedules(store: Store, tenantId: string): Promise<LoadedSchedule[]> {
  return scheduleRows(store, tenantId, {});
}

async function scheduleRows(
  store: Store,
  tenantId: string,
  filter: { id?: string; practitionerId?: string },
): Promise<LoadedSchedule[]> {
  let query = store.db
    .selectFrom('resources')
    .select(['id', 'resource', 'ref_practitioner', 'ref_location', 'status'])
    .where('tenant_id', '=', tenantId)
    .where('resource_type', '=', 'Schedule')
    .where('deleted', '=', 0);
  if (filter.id !== undefined) query = query.where('id', '=', filter.id);
  if (filter.practitionerId !== undefined)
    query = query.where('ref_practitioner', '=', filter.practitionerId);
  const rows = await query.orderBy('id').limit(1000).execute();
  return rows
    .sort((a, b) => Number(b.status === 'active') - Number(a.status === 'active'))
    .flatMap((row) =>
      row.ref_practitioner && row.ref_location
        ? [
            {
              schedule: JSON.parse(row.resource) as Schedule & { id: string },
              practitionerId: row.ref_practitioner,
              locationId: row.ref_location,
            },
          ]
        : [],
    );
}

/** The appointment types a Schedule offers, in its `serviceType` order. */
export function typesOf(schedule: Schedule): AppointmentTypeRule[] {
  return readScheduleRules(schedule).types;
}

/** `{coding: [{system, code, display}]}` of an appointment type. */
export function typeConcept(type: AppointmentTypeRule): {
  coding: Array<{ system: string; code: string; display?: string }>;
} {
  return {
    coding: [{ system: type.system, code: type.code, ...(type.display ? { display: type.display } : {}) }],
  };
}

/** References to a practitioner and a location with their displays, as the synced appointments carry them. */
export async function actorReferences(
  store: Store,
  tenantId: string,
  practitionerId: string,
  locationId: string,
): Promise<{
  practitioner: Reference<Practitioner>;
  location: Reference<Location>;
  zone: string | undefined;
}> {
  const [practitioner, location] = await Promise.all([
    readResource(store, tenantId, 'Practitioner', practitionerId),
    readResource(store, tenantId, 'Location', locationId),
  ]);
  const display = practitionerDisplay(practitioner?.resource);
  const loc: Location | undefined = location?.resource;
  return {
    practitioner: { reference: `Practitioner/${practitionerId}`, ...(display ? { display } : {}) },
    location: { reference: `Location/${locationId}`, ...(loc?.name ? { display: loc.name } : {}) },
    zone: loc ? locationZone(loc) : undefined,
  };
}

function practitionerDisplay(practitioner: Practitioner | undefined): string | undefined {
  const name = practitioner?.name?.[0];
  if (!name) return undefined;
  if (name.text) return name.text;
  const parts = [...(name.prefix ?? []), ...(name.given ?? []), name.family ?? ''].filter((p) => p !== '');
  return parts.length > 0 ? parts.join(' ') : undefined;
}
