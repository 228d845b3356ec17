import { describe, expect, it } from 'vitest';
import { SubscriptionError } from '../../../src/webhooks/subscriptions/subscription-error.js';
import {
  formatFilterCriteria,
  parseFilterCriteria,
} from '../../../src/webhooks/subscriptions/subscription-filters.js';
import {
  TOPIC_BASE_URL,
  TOPICS,
  topicById,
  topicByUrl,
  topicCapabilityExtensions,
  topicResource,
  topicResources,
  topicsForEvent,
} from '../../../src/webhooks/subscriptions/topics.js';
import { expectValidFhir } from '../../support/fhir-validators.js';

const topic = (id: string) => {
  const found = topicById(id);
  if (!found) throw new Error(`no topic ${id}`);
  return found;
};

describe('subscription topics', () => {
  it('serves every topic as a valid R4 Basic in the backport cross-version shape', () => {
    const resources = topicResources('0.1.0');
    expect(resources).toHaveLength(TOPICS.length);
    for (const resource of resources) {
      expectValidFhir(resource);
      expect(resource.code.coding?.[0]).toEqual({
        system: 'http://hl7.org/fhir/fhir-types',
        code: 'SubscriptionTopic',
      });
      const url = resource.extension?.find((e) =>
        e.url.endsWith('extension-SubscriptionTopic.url'),
      )?.valueUri;
      expect(url).toBe(`${TOPIC_BASE_URL}${resource.id ?? ''}`);
    }
    const filters = topicResource(topic('appointment-changed'), '0.1.0')
      .extension?.filter((e) => e.url.endsWith('.canFilterBy'))
      .map((e) => e.extension?.find((x) => x.url === 'filterParameter')?.valueString);
    expect(filters).toEqual(['patient', 'practitioner', 'location', 'status']);
    expect(new Set(topicCapabilityExtensions().map((e) => e.valueCanonical)).size).toBe(TOPICS.length);
  });

  it('routes journal event types to topics', () => {
    const ids = (eventType: string) => topicsForEvent(eventType).map((t) => t.id);
    expect(ids('appointment.booked')).toEqual(['appointment-booked', 'slot-availability']);
    expect(ids('appointment.changed')).toEqual(['appointment-changed', 'slot-availability']);
    expect(ids('appointment.cancelled')).toEqual(['appointment-cancelled', 'slot-availability']);
    expect(ids('appointment.deleted')).toEqual(['appointment-cancelled', 'slot-availability']);
    expect(ids('appointment.no-show')).toEqual(['appointment-no-show', 'slot-availability']);
    expect(ids('slot.created')).toEqual(['slot-availability']);
    expect(ids('schedule.changed')).toEqual(['slot-availability']);
    expect(ids('patient.created')).toEqual(['patient-created']);
    expect(ids('patient.changed')).toEqual(['patient-changed']);
    expect(ids('booking.failed')).toEqual(['booking-failed']);
    expect(ids('booking.rolled-back')).toEqual(['booking-failed']);
    expect(ids('sync.health-changed')).toEqual(['sync-health']);
    expect(ids('subscription.disabled')).toEqual(['sync-health']);
    expect(ids('practitioner.changed')).toEqual([]);
    expect(topicByUrl(`${TOPIC_BASE_URL}patient-created|0.1.0`)?.id).toBe('patient-created');
    expect(topicByUrl('https://example.org/SubscriptionTopic/other')).toBeUndefined();
  });

  it('parses the filter spellings the backport IG allows and writes them back canonically', () => {
    const changed = topic('appointment-changed');
    const filters = parseFilterCriteria(changed, [
      'Appointment?patient=Patient/p1&status=booked,arrived',
      'practitioner=dr-a',
      'Appointment.location=https://x.test/fhir/demo/Location/loc-1',
    ]);
    expect(filters).toEqual({
      patient: 'p1',
      status: ['booked', 'arrived'],
      practitioner: 'dr-a',
      location: 'loc-1',
    });
    expect(formatFilterCriteria(changed, filters)).toEqual([
      'Appointment?patient=Patient/p1',
      'Appointment?practitioner=Practitioner/dr-a',
      'Appointment?location=Location/loc-1',
      'Appointment?status=booked,arrived',
    ]);
    expect(parseFilterCriteria(topic('patient-created'), ['Patient?_id=pat-9'])).toEqual({
      patient: 'pat-9',
    });
    expect(
      parseFilterCriteria(topic('slot-availability'), ['Schedule?practitioner=Practitioner/dr-b']),
    ).toEqual({
      practitioner: 'dr-b',
    });
  });

  it.each([
    ['appointment-booked', 'Appointment?status=booked', 'not-supported'],
    ['appointment-booked', 'Appointment?patient:missing=true', 'not-supported'],
    ['appointment-booked', 'Patient?patient=Patient/1', 'not-supported'],
    ['appointment-booked', 'Appointment?patient=Practitioner/1', 'value'],
    ['appointment-booked', 'Appointment?patient=Patient/1&patient=Patient/2', 'invalid'],
    ['appointment-booked', 'Appointment?patient', 'invalid'],
    ['sync-health', 'stream=patients', 'not-supported'],
  ])('refuses filter %s / %s (%s)', (topicId, criteria, code) => {
    try {
      parseFilterCriteria(topic(topicId), [criteria]);
    } catch (error) {
      expect(error).toBeInstanceOf(SubscriptionError);
      expect((error as SubscriptionError).code).toBe(code);
      return;
    }
    throw new Error('accepted');
  });
});
