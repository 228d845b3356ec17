/**
 * Every change-journal event type Switchboard writes (DESIGN.md section 6), as one closed union: a journal write
 * with a name not listed here does not compile, and the topic table (`src/webhooks/subscriptions/topics.ts`) is
 * keyed by it, so a new event type cannot be added without deciding which topics it triggers.
 */
import type { JournalRowInput } from '../store/change-journal.js';

/** Event types of resources the sync engine writes, named by `sync/change-events.ts`. */
const RESOURCE_EVENT_TYPES = [
  'slot.created',
  'slot.changed',
  'slot.deleted',
  'schedule.created',
  'schedule.changed',
  'schedule.deleted',
  'patient.created',
  'patient.changed',
  'patient.deleted',
  'practitioner.created',
  'practitioner.changed',
  'practitioner.deleted',
  'location.created',
  'location.changed',
  'location.deleted',
] as const;

/** Every journal event type, in the order topics list them. */
export const EVENT_TYPES = [
  // Appointments: the sync engine's words, and `rescheduled` from the booking saga.
  'appointment.booked',
  'appointment.changed',
  'appointment.rescheduled',
  'appointment.cancelled',
  'appointment.deleted',
  'appointment.no-show',
  ...RESOURCE_EVENT_TYPES,
  // The booking saga's failures and hold releases; a booking answered pending that was then confirmed.
  'booking.confirmed',
  'booking.failed',
  'booking.rolled-back',
  'booking.hold-released',
  'booking.hold-expired',
  // A saga handed to the practice's staff: a manual-intervention Task was opened.
  'booking.needs-attention',
  // Health of sync and of webhook delivery.
  'sync.health-changed',
  'subscription.disabled',
  'subscription.enabled',
] as const;

/** A journal event type. */
export type EventType = (typeof EVENT_TYPES)[number];

/** A resource event type the sync engine writes (`{type}.created|changed|deleted`). */
export type ResourceEventType = (typeof RESOURCE_EVENT_TYPES)[number];

const known = new Set<string>(EVENT_TYPES);

/** True when `name` is one of {@link EVENT_TYPES}. */
export function isEventType(name: string): name is EventType {
  return known.has(name);
}

/** An event to record; the journal gives it a sequence number and a time. */
export interface JournalEventInput extends JournalRowInput {
  eventType: EventType;
}
