import { describe, expect, it } from 'vitest';
import { EVENT_TYPES, isEventType, type EventType } from '../../src/events/event-types.js';
import { EVENT_TOPICS, topicsForEvent, type TopicId } from '../../src/webhooks/subscriptions/topics.js';

/**
 * Every journal event type against the topics it triggers. A new event type fails here until it is written
 * down, and one that triggers no topic must be listed as deliberately unrouted.
 */
const EXPECTED: Record<EventType, readonly TopicId[]> = {
  'appointment.booked': ['appointment-booked', 'slot-availability'],
  'appointment.changed': ['appointment-changed', 'slot-availability'],
  'appointment.rescheduled': ['appointment-changed', 'slot-availability'],
  'appointment.cancelled': ['appointment-cancelled', 'slot-availability'],
  'appointment.deleted': ['appointment-cancelled', 'slot-availability'],
  'appointment.no-show': ['appointment-no-show', 'slot-availability'],
  'slot.created': ['slot-availability'],
  'slot.changed': ['slot-availability'],
  'slot.deleted': ['slot-availability'],
  'schedule.created': ['slot-availability'],
  'schedule.changed': ['slot-availability'],
  'schedule.deleted': ['slot-availability'],
  'patient.created': ['patient-created'],
  'patient.changed': ['patient-changed'],
  'patient.deleted': [],
  'practitioner.created': [],
  'practitioner.changed': [],
  'practitioner.deleted': [],
  'location.created': [],
  'location.changed': [],
  'location.deleted': [],
  'booking.confirmed': ['appointment-booked'],
  'booking.failed': ['booking-failed'],
  'booking.rolled-back': ['booking-failed'],
  'booking.hold-released': [],
  'booking.hold-expired': [],
  'booking.needs-attention': ['booking-needs-attention'],
  'sync.health-changed': ['sync-health'],
  'subscription.disabled': ['sync-health'],
  'subscription.enabled': ['sync-health'],
};

/** Event types no topic routes, on purpose: anything else routing nowhere is a bug (like issue 9's reschedule). */
const UNROUTED: readonly EventType[] = [
  'patient.deleted',
  'practitioner.created',
  'practitioner.changed',
  'practitioner.deleted',
  'location.created',
  'location.changed',
  'location.deleted',
  'booking.hold-released',
  'booking.hold-expired',
];

describe('journal event types', () => {
  it('lists every event type once', () => {
    expect(new Set(EVENT_TYPES).size).toBe(EVENT_TYPES.length);
    expect([...EVENT_TYPES].sort()).toEqual(Object.keys(EXPECTED).sort());
    expect(isEventType('appointment.rescheduled')).toBe(true);
    expect(isEventType('appointment.moved')).toBe(false);
  });

  it.each(EVENT_TYPES.map((eventType) => [eventType]))('routes %s to its topics', (eventType) => {
    expect(topicsForEvent(eventType).map((t) => t.id)).toEqual(EXPECTED[eventType]);
    expect(EVENT_TOPICS[eventType]).toEqual(EXPECTED[eventType]);
    if (!UNROUTED.includes(eventType)) expect(topicsForEvent(eventType).length).toBeGreaterThan(0);
  });
});
