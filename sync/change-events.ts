/**
 * Names the change-journal event for a resource that changed (DESIGN.md section 6 topics). Appointments get the
 * words subscribers act on (booked, cancelled, no-show); everything else is created / changed / deleted.
 */
import type { Appointment, Resource } from '@medplum/fhirtypes';
import { isEventType, type EventType } from '../src/events/event-types.js';

export type ChangeKind = 'created' | 'changed' | 'deleted';

export function changeEventType(previous: Resource | undefined, next: Resource | undefined): EventType {
  const resourceType = (next ?? previous)?.resourceType;
  if (!resourceType) throw new Error('changeEventType needs a previous or a next resource');
  const prefix = resourceType.toLowerCase();
  if (!next) return known(`${prefix}.deleted`);
  if (next.resourceType === 'Appointment') {
    return appointmentEvent(previous as Appointment | undefined, next);
  }
  return known(`${prefix}.${previous ? 'changed' : 'created'}`);
}

/** The name as an event type; a resource type the journal has no events for is a programming error. */
function known(name: string): EventType {
  if (!isEventType(name)) throw new Error(`no journal event type ${name}`);
  return name;
}

function appointmentEvent(previous: Appointment | undefined, next: Appointment): EventType {
  if (next.status !== previous?.status) {
    if (next.status === 'cancelled') return 'appointment.cancelled';
    if (next.status === 'noshow') return 'appointment.no-show';
    if (!previous) return 'appointment.booked';
  }
  return 'appointment.changed';
}
