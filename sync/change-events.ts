/**
 * Names the change-journal event for a resource that changed (DESIGN.md section 6 topics). Appointments get the
 * words subscribers act on (booked, cancelled, no-show); everything else is created / changed / deleted.
 */
import type { Appointment, Resource } from '@medplum/fhirtypes';

export type ChangeKind = 'created' | 'changed' | 'deleted';

export function changeEventType(previous: Resource | undefined, next: Resource | undefined): string {
  const resourceType = (next ?? previous)?.resourceType;
  if (!resourceType) throw new Error('changeEventType needs a previous or a next resource');
  const prefix = resourceType.toLowerCase();
  if (!next) return `${prefix}.deleted`;
  if (next.resourceType === 'Appointment') {
    return appointmentEvent(previous as Appointment | undefined, next);
  }
  return `${prefix}.${previous ? 'changed' : 'created'}`;
}

function appointmentEvent(previous: Appointment | undefined, next: Appointment): string {
  if (next.status !== previous?.status) {
    if (next.status === 'cancelled') return 'appointment.cancelled';
    if (next.status === 'noshow') return 'appointment.no-show';
    if (!previous) return 'appointment.booked';
  }
  return 'appointment.changed';
}
