/**
 * A Schedule's practitioner, location and appointment types as booking answers show them (references with
 * displays, type codings). Loading Schedules is availability's (`src/availability/schedules.ts`).
 */
import type { Location, Practitioner, Reference } from '@medplum/fhirtypes';
import { locationZone, type AppointmentTypeRule } from '../../src/availability/schedule-rules.js';
import type { Store } from '../../src/store/database.js';
import { readResource } from '../../src/store/resource-store.js';

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
