/**
 * The resource types the facade serves, in CapabilityStatement order. The router, the search engine and the
 * CapabilityStatement all read this list, so adding a type here is the one step that exposes it.
 */
import { appointmentDefinition } from './appointment.js';
import { locationDefinition } from './location.js';
import { patientDefinition } from './patient.js';
import { practitionerDefinition } from './practitioner.js';
import type { ResourceDefinition } from './resource-definition.js';
import { scheduleDefinition } from './schedule.js';
import { slotDefinition } from './slot.js';
import { taskDefinition } from './task.js';

export const SUPPORTED_RESOURCES: readonly ResourceDefinition[] = [
  patientDefinition,
  practitionerDefinition,
  locationDefinition,
  scheduleDefinition,
  slotDefinition,
  appointmentDefinition,
  taskDefinition,
];

/** The definition of `type`, if the facade serves it. */
export function resourceDefinitionOf(type: string): ResourceDefinition | undefined {
  return SUPPORTED_RESOURCES.find((d) => d.type === type);
}
