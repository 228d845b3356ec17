/**
 * Switchboard's subscription topics (DESIGN.md section 6; standards.md 4.2): their canonical URLs, which
 * change-journal events trigger each, what each notification's focus is, which filters each accepts, and each
 * topic as a resource the facade can serve.
 *
 * On R4 the Subscriptions Backport IG references topics by canonical URL only; for discovery it represents a
 * topic as a `Basic` resource with `code = http://hl7.org/fhir/fhir-types#SubscriptionTopic` and the cross-version
 * `http://hl7.org/fhir/5.0/StructureDefinition/extension-SubscriptionTopic.*` extensions (see the IG's
 * `Basic/r4-encounter-complete`). {@link topicResource} builds exactly that, so it is valid R4.
 *
 * Focus of each topic:
 * - appointment topics and `booking-failed`: the Appointment;
 * - `patient-created` / `patient-changed`: the Patient (a patient created by booking carries the needs-review
 *   flag the booking code sets on it);
 * - `slot-availability`: the **Schedule** (practitioner × location) whose free time changed. Slots are computed,
 *   so their ids are not a stable thing to point at; a subscriber re-queries `Slot?schedule=…` on each
 *   notification (Argonaut's "smart polling"). The Appointment or block (busy-unavailable Slot) that caused the
 *   change, and the previous Schedule when an appointment moved between schedules, are sent as
 *   `additional-context`;
 * - `booking-needs-attention`: the manual-intervention Task (whose own focus is the Appointment);
 * - `sync-health`: no resource for `sync.health-changed` (the event detail rides in the Standard Webhooks
 *   envelope; FHIR subscribers read `/status`), the Subscription for `subscription.disabled|enabled`.
 */
import type { Basic, Extension, ResourceType } from '@medplum/fhirtypes';
import { EVENT_TYPES, type EventType } from '../../events/event-types.js';

/** Prefix of every Switchboard topic canonical. */
export const TOPIC_BASE_URL = 'https://switchboard.health/fhir/SubscriptionTopic/';

/** Code system of the change-journal event types (the Standard Webhooks `type`). */
export const EVENT_TYPE_SYSTEM = 'https://switchboard.health/fhir/CodeSystem/event-type';

/** The topics. */
export const TOPIC_IDS = [
  'appointment-booked',
  'appointment-changed',
  'appointment-cancelled',
  'appointment-no-show',
  'slot-availability',
  'patient-created',
  'patient-changed',
  'booking-failed',
  'booking-needs-attention',
  'sync-health',
] as const;
export type TopicId = (typeof TOPIC_IDS)[number];

/** The filters a subscription can carry (stored parsed, matched on the focus or the event's resource). */
export type FilterName = 'patient' | 'practitioner' | 'location' | 'status';

/** One filter a topic accepts: `{resource}?{parameter}=value` in `backport-filter-criteria`. */
export interface TopicFilter {
  name: FilterName;
  resource: ResourceType;
  /** The search parameter name a subscriber writes. */
  parameter: string;
  description: string;
}

/** One topic. */
export interface TopicDefinition {
  id: TopicId;
  url: string;
  /** Computer-friendly name (`SubscriptionTopic.name`). */
  name: string;
  title: string;
  description: string;
  /** The journal event types that may trigger it (from {@link EVENT_TOPICS}). */
  eventTypes: readonly EventType[];
  /** The resource type of the notification focus; undefined when events of this topic may have none. */
  focusType?: ResourceType;
  /** Interactions on the focus type that trigger it (for `resourceTrigger`). */
  interactions: ReadonlyArray<'create' | 'update' | 'delete'>;
  filters: readonly TopicFilter[];
}

const APPOINTMENT_STATUS_FILTERS: readonly TopicFilter[] = [
  {
    name: 'patient',
    resource: 'Appointment',
    parameter: 'patient',
    description: 'Only appointments of this patient (`Patient/[id]`).',
  },
  {
    name: 'practitioner',
    resource: 'Appointment',
    parameter: 'practitioner',
    description: 'Only appointments with this practitioner (`Practitioner/[id]`).',
  },
  {
    name: 'location',
    resource: 'Appointment',
    parameter: 'location',
    description: 'Only appointments at this location (`Location/[id]`).',
  },
  {
    name: 'status',
    resource: 'Appointment',
    parameter: 'status',
    description: 'Only appointments whose status (after the change) is one of these codes, comma-separated.',
  },
];

const APPOINTMENT_FILTERS = APPOINTMENT_STATUS_FILTERS.filter((f) => f.name !== 'status');

const SCHEDULE_FILTERS: readonly TopicFilter[] = [
  {
    name: 'practitioner',
    resource: 'Schedule',
    parameter: 'practitioner',
    description: 'Only schedules of this practitioner (`Practitioner/[id]`).',
  },
  {
    name: 'location',
    resource: 'Schedule',
    parameter: 'location',
    description: 'Only schedules at this location (`Location/[id]`).',
  },
];

const PATIENT_FILTERS: readonly TopicFilter[] = [
  { name: 'patient', resource: 'Patient', parameter: '_id', description: 'Only this patient (its id).' },
];

const definitions: readonly Omit<TopicDefinition, 'url' | 'eventTypes'>[] = [
  {
    id: 'appointment-booked',
    name: 'AppointmentBooked',
    title: 'Appointment booked',
    description:
      'An appointment appeared in the records system (booked by the front desk or through Switchboard).',
    focusType: 'Appointment',
    interactions: ['create'],
    filters: APPOINTMENT_FILTERS,
  },
  {
    id: 'appointment-changed',
    name: 'AppointmentChanged',
    title: 'Appointment changed',
    description:
      'An appointment was rescheduled or otherwise changed, other than being cancelled or marked no-show.',
    focusType: 'Appointment',
    interactions: ['update'],
    filters: APPOINTMENT_STATUS_FILTERS,
  },
  {
    id: 'appointment-cancelled',
    name: 'AppointmentCancelled',
    title: 'Appointment cancelled or deleted',
    description:
      'An appointment was cancelled, or deleted from the records system (then the notification is a delete).',
    focusType: 'Appointment',
    interactions: ['update', 'delete'],
    filters: APPOINTMENT_FILTERS,
  },
  {
    id: 'appointment-no-show',
    name: 'AppointmentNoShow',
    title: 'Appointment no-show',
    description: 'The patient did not come: the appointment was marked no-show.',
    focusType: 'Appointment',
    interactions: ['update'],
    filters: APPOINTMENT_FILTERS,
  },
  {
    id: 'slot-availability',
    name: 'SlotAvailability',
    title: 'Slot availability changed',
    description:
      'Time on a schedule (practitioner × location) became free or busy: an appointment was booked, moved, ' +
      'cancelled or deleted, a block or closure changed, or working hours changed. The focus is the Schedule; ' +
      'search `Slot?schedule=Schedule/[id]` again. The cause is sent as additional context.',
    focusType: 'Schedule',
    interactions: ['create', 'update', 'delete'],
    filters: SCHEDULE_FILTERS,
  },
  {
    id: 'patient-created',
    name: 'PatientCreated',
    title: 'Patient created',
    description:
      'A patient was created, by the front desk or by a booking (those carry the needs-review flag for staff).',
    focusType: 'Patient',
    interactions: ['create'],
    filters: PATIENT_FILTERS,
  },
  {
    id: 'patient-changed',
    name: 'PatientChanged',
    title: 'Patient changed',
    description: "A patient's demographics changed.",
    focusType: 'Patient',
    interactions: ['update'],
    filters: PATIENT_FILTERS,
  },
  {
    id: 'booking-failed',
    name: 'BookingFailed',
    title: 'Booking failed or rolled back',
    description:
      'A booking through Switchboard failed, or was written to the records system and then compensated ' +
      '(rolled back). The focus is the Appointment when one exists.',
    focusType: 'Appointment',
    interactions: ['create', 'update', 'delete'],
    filters: APPOINTMENT_FILTERS,
  },
  {
    id: 'booking-needs-attention',
    name: 'BookingNeedsAttention',
    title: 'Booking needs the practice staff',
    description:
      'A booking, reschedule or cancel that Switchboard could not finish or undo by itself (the original time was ' +
      'taken meanwhile, the records system refuses the cancel). The focus is the manual-intervention Task, whose ' +
      'focus is the Appointment.',
    focusType: 'Task',
    interactions: ['create'],
    filters: [],
  },
  {
    id: 'sync-health',
    name: 'SyncHealth',
    title: 'Sync and delivery health',
    description:
      "A tenant's sync health changed (fresh, lagging, failing; both ways), or a webhook subscription was " +
      'switched off after failing for too long, or switched back on.',
    interactions: ['update'],
    filters: [],
  },
];

/**
 * Which topics each journal event type triggers. Keyed by every {@link EventType}: a new event type does not
 * compile until it is routed here, to topics or deliberately to none (`[]`).
 */
export const EVENT_TOPICS: Readonly<Record<EventType, readonly TopicId[]>> = {
  'appointment.booked': ['appointment-booked', 'slot-availability'],
  'appointment.changed': ['appointment-changed', 'slot-availability'],
  // What a reschedule through Switchboard journals (the sync engine calls one it sees upstream `changed`).
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
  // Journalled, but no topic covers these (yet).
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
  'booking.needs-attention': ['booking-needs-attention'],
  'booking.hold-released': [],
  'booking.hold-expired': [],
  'sync.health-changed': ['sync-health'],
  'subscription.disabled': ['sync-health'],
  'subscription.enabled': ['sync-health'],
};

/** Every topic, in a fixed order. */
export const TOPICS: readonly TopicDefinition[] = Object.freeze(
  definitions.map((d) =>
    Object.freeze({
      ...d,
      url: `${TOPIC_BASE_URL}${d.id}`,
      eventTypes: EVENT_TYPES.filter((eventType) => EVENT_TOPICS[eventType].includes(d.id)),
    }),
  ),
);

const byUrl = new Map(TOPICS.map((t) => [t.url, t]));
const byId = new Map(TOPICS.map((t) => [t.id, t]));
const byEvent = new Map<string, TopicDefinition[]>();
for (const topic of TOPICS) {
  for (const eventType of topic.eventTypes)
    byEvent.set(eventType, [...(byEvent.get(eventType) ?? []), topic]);
}

/** The topic with canonical `url` (a `|version` suffix is ignored), or undefined. */
export function topicByUrl(url: string): TopicDefinition | undefined {
  return byUrl.get(url.split('|')[0] ?? url);
}

/** The topic with id `id` (the last path segment of its canonical), or undefined. */
export function topicById(id: string): TopicDefinition | undefined {
  return byId.get(id as TopicId);
}

/** The topics a journal event type may trigger (empty for types no topic covers, e.g. `practitioner.changed`). */
export function topicsForEvent(eventType: string): readonly TopicDefinition[] {
  return byEvent.get(eventType) ?? [];
}

const SUBSCRIPTION_TOPIC_EXT = 'http://hl7.org/fhir/5.0/StructureDefinition/extension-SubscriptionTopic.';
/** The date the topic definitions were last changed (`SubscriptionTopic.date`). */
const TOPICS_DATE = '2026-11-21';

/**
 * The topic as an R4 `Basic` resource (backport IG cross-version representation), id = the topic id.
 *
 * @see standards.md 4.2 ("Topics in R4")
 */
export function topicResource(topic: TopicDefinition, version: string): Basic {
  const ext = (name: string, value: Omit<Extension, 'url'>): Extension => ({
    url: `${SUBSCRIPTION_TOPIC_EXT}${name}`,
    ...value,
  });
  const focusUri = topic.focusType ? `http://hl7.org/fhir/StructureDefinition/${topic.focusType}` : undefined;
  const extension: Extension[] = [
    ext('url', { valueUri: topic.url }),
    ext('version', { valueString: version }),
    ext('name', { valueString: topic.name }),
    ext('title', { valueString: topic.title }),
    ext('date', { valueDateTime: TOPICS_DATE }),
    ext('description', { valueMarkdown: topic.description }),
  ];
  if (focusUri) {
    extension.push(
      ext('resourceTrigger', {
        extension: [
          { url: 'description', valueMarkdown: topic.description },
          { url: 'resource', valueUri: focusUri },
          ...topic.interactions.map((code) => ({ url: 'supportedInteraction', valueCode: code })),
        ],
      }),
    );
  }
  for (const eventType of topic.eventTypes) {
    extension.push(
      ext('eventTrigger', {
        extension: [
          { url: 'description', valueMarkdown: `Journal event \`${eventType}\`.` },
          {
            url: 'event',
            valueCodeableConcept: {
              coding: [{ system: EVENT_TYPE_SYSTEM, code: eventType }],
              text: eventType,
            },
          },
          ...(focusUri ? [{ url: 'resource', valueUri: focusUri }] : []),
        ],
      }),
    );
  }
  for (const filter of topic.filters) {
    extension.push(
      ext('canFilterBy', {
        extension: [
          { url: 'description', valueMarkdown: filter.description },
          { url: 'resource', valueUri: filter.resource },
          { url: 'filterParameter', valueString: filter.parameter },
        ],
      }),
    );
  }
  if (topic.focusType) {
    extension.push(ext('notificationShape', { extension: [{ url: 'resource', valueUri: topic.focusType }] }));
  }
  return {
    resourceType: 'Basic',
    id: topic.id,
    meta: { profile: ['http://hl7.org/fhir/5.0/StructureDefinition/profile-SubscriptionTopic'] },
    extension,
    modifierExtension: [{ url: `${SUBSCRIPTION_TOPIC_EXT}status`, valueCode: 'active' }],
    code: { coding: [{ system: 'http://hl7.org/fhir/fhir-types', code: 'SubscriptionTopic' }] },
  };
}

/** Every topic as a resource (for `GET …/Basic?code=SubscriptionTopic` or a topic list). */
export function topicResources(version: string): Basic[] {
  return TOPICS.map((topic) => topicResource(topic, version));
}

/**
 * The CapabilityStatement extensions that advertise the topics on `rest.resource` for Subscription.
 *
 * @see standards.md 4.2 (topic discovery)
 */
export function topicCapabilityExtensions(): Extension[] {
  return TOPICS.map((topic) => ({
    url: 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/capabilitystatement-subscriptiontopic-canonical',
    valueCanonical: topic.url,
  }));
}
