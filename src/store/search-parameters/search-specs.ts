/**
 * Every resource type with search parameters or search columns. The index is written from these
 * (`index-rows.ts`) and the facade serves the parameters of the types it exposes, so what is advertised is what is
 * indexed.
 */
import type { Resource } from '@medplum/fhirtypes';
import { appointmentSearch } from './appointment.js';
import { locationSearch } from './location.js';
import { patientSearch } from './patient.js';
import { practitionerRoleSearch } from './practitioner-role.js';
import { practitionerSearch } from './practitioner.js';
import { scheduleSearch } from './schedule.js';
import type { ResourceSearchSpec, SearchParamDefinition } from './search-parameter.js';
import { slotSearch } from './slot.js';
import { taskSearch } from './task.js';

export const SEARCH_SPECS: readonly ResourceSearchSpec[] = [
  patientSearch,
  practitionerSearch,
  practitionerRoleSearch,
  locationSearch,
  scheduleSearch,
  slotSearch,
  appointmentSearch,
  taskSearch,
];

/** The search spec of `resourceType`, if it has one. */
export function searchSpecOf(resourceType: string): ResourceSearchSpec | undefined {
  return SEARCH_SPECS.find((spec) => spec.resourceType === resourceType);
}

/**
 * The search parameters of `resourceType`, in CapabilityStatement order; none for a type without a spec.
 *
 * @see DESIGN.md section 8
 */
export function searchParametersOf(resourceType: Resource['resourceType']): readonly SearchParamDefinition[] {
  return searchSpecOf(resourceType)?.parameters ?? [];
}
