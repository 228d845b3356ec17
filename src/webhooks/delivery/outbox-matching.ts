/**
 * Filling the outbox (DESIGN.md section 1 "Event path", section 6): journal events → the tenant's active
 * subscriptions, by topic and filters → outbox rows with the next event number of each subscription, all inside
 * the transaction that appended the events (`src/events/change-writer.ts`; the transactional outbox of
 * reliability.md 1.2: a crash can neither lose nor double-emit a notification).
 *
 * Matching reads the resource version the event names from `resource_history` (the commit wrote it a moment ago
 * in the same transaction), so replaying old journal events later — catch-up after a subscription is switched
 * back on — matches exactly as it would have then.
 *
 * Cost when a tenant has no active subscription: one indexed query (`subscriptions_status_idx`).
 */
import type { Appointment } from '@medplum/fhirtypes';
import type { JournalEntry } from '../../store/change-journal.js';
import type { StoreTransaction } from '../../store/database.js';
import { parseReference } from '../../store/reference-key.js';
import { allocateEventNumbers, insertOutboxRows } from '../../store/outbox-rows.js';
import type { OutboxTable } from '../../store/schema.js';
import { subscriptionRows } from '../../store/subscription-rows.js';
import type { SubscriptionFilters } from '../subscriptions/subscription-filters.js';
import { EventFacts, VersionReader } from './event-facts.js';
import { toSubscriptionRecord, type SubscriptionRecord } from '../subscriptions/subscription-record.js';
import { topicsForEvent, type TopicDefinition } from '../subscriptions/topics.js';

/** What matching needs of a subscription. */
export type MatchTarget = Pick<SubscriptionRecord, 'id' | 'topic' | 'filters'>;

/** One event matched to one subscription, before it is numbered. */
export interface MatchedEvent {
  seq: number;
  /** `Type/id` of the notification focus, or null. */
  focus: string | null;
  /** Deliveries with the same key go out one at a time, in order. */
  orderKey: string;
  /** `Type/id` references sent as `additional-context`. */
  context: string[];
}

/**
 * Matches `entries` (just appended) against the tenant's active subscriptions and enqueues the matches, in the
 * caller's write transaction.
 *
 * @see DESIGN.md section 6
 */
export async function enqueueOutbox(
  trx: StoreTransaction,
  tenantId: string,
  entries: readonly JournalEntry[],
  now: Date,
): Promise<void> {
  if (entries.length === 0) return;
  const rows = await subscriptionRows(trx, tenantId, { status: ['active'] });
  if (rows.length === 0) return;
  const nowText = now.toISOString();
  const targets: MatchTarget[] = rows
    .map(toSubscriptionRecord)
    .filter((subscription) => subscription.end === null || subscription.end > nowText);
  if (targets.length === 0) return;
  const matches = await matchJournalEntries(trx, tenantId, entries, targets);
  await enqueueMatches(trx, tenantId, matches, now);
}

/**
 * Which of `entries` each target subscription receives, in sequence order, with focus and ordering key.
 *
 * @see DESIGN.md section 6
 */
export async function matchJournalEntries(
  trx: StoreTransaction,
  tenantId: string,
  entries: readonly JournalEntry[],
  targets: readonly MatchTarget[],
): Promise<Map<string, MatchedEvent[]>> {
  const wanted = new Set(targets.map((t) => t.topic));
  const matches = new Map<string, MatchedEvent[]>();
  const reader = new VersionReader(trx, tenantId);
  for (const entry of entries) {
    const topics = topicsForEvent(entry.eventType).filter((t) => wanted.has(t.url));
    if (topics.length === 0) continue;
    const facts = new EventFacts(entry, reader);
    for (const target of targets) {
      const topic = topics.find((t) => t.url === target.topic);
      if (!topic) continue;
      const match = await matchOne(topic, target.filters, facts);
      if (!match) continue;
      const list = matches.get(target.id) ?? [];
      list.push(match);
      matches.set(target.id, list);
    }
  }
  return matches;
}

/**
 * Numbers each subscription's matches after its `events_since_start` counter (bumped in the same statement) and
 * inserts the outbox rows, due now.
 *
 * @see DESIGN.md section 6
 */
export async function enqueueMatches(
  trx: StoreTransaction,
  tenantId: string,
  matches: ReadonlyMap<string, readonly MatchedEvent[]>,
  now: Date,
): Promise<number> {
  const nowText = now.toISOString();
  const rows: OutboxTable[] = [];
  for (const [subscriptionId, events] of matches) {
    if (events.length === 0) continue;
    const first = await allocateEventNumbers(trx, tenantId, subscriptionId, events.length);
    events.forEach((event, index) => {
      rows.push({
        tenant_id: tenantId,
        subscription_id: subscriptionId,
        seq: event.seq,
        attempts: 0,
        next_attempt_at: nowText,
        last_status: null,
        last_error: null,
        delivered_at: null,
        dead_lettered_at: null,
        created_at: nowText,
        event_number: first + index,
        order_key: event.orderKey,
        focus: event.focus,
        context: event.context.length > 0 ? JSON.stringify(event.context) : null,
        retry_started_at: nowText,
        last_attempt_at: null,
      });
    });
  }
  await insertOutboxRows(trx, rows);
  return rows.length;
}

async function matchOne(
  topic: TopicDefinition,
  filters: SubscriptionFilters,
  facts: EventFacts,
): Promise<MatchedEvent | undefined> {
  const entry = facts.entry;
  switch (topic.id) {
    case 'appointment-booked':
    case 'appointment-changed':
    case 'appointment-cancelled':
    case 'appointment-no-show': {
      const version = await facts.resource();
      if (version?.resource.resourceType !== 'Appointment') return undefined;
      if (!appointmentMatches(version.resource, filters)) return undefined;
      const focus = `Appointment/${version.resource.id ?? ''}`;
      return { seq: entry.seq, focus, orderKey: focus, context: [] };
    }
    case 'booking-failed': {
      const version = await facts.resource();
      if (version?.resource.resourceType === 'Appointment') {
        if (!appointmentMatches(version.resource, filters)) return undefined;
        const focus = `Appointment/${version.resource.id ?? ''}`;
        return { seq: entry.seq, focus, orderKey: focus, context: [] };
      }
      if (!payloadMatches(entry.payload, filters)) return undefined;
      const focus =
        entry.resourceType && entry.resourceId ? `${entry.resourceType}/${entry.resourceId}` : null;
      return { seq: entry.seq, focus, orderKey: focus ?? 'booking', context: [] };
    }
    case 'booking-needs-attention': {
      // No filters: whoever watches for work the practice staff must do sees all of it.
      const focus = entry.resourceType === 'Task' && entry.resourceId ? `Task/${entry.resourceId}` : null;
      if (!focus) return undefined;
      return { seq: entry.seq, focus, orderKey: focus, context: [] };
    }
    case 'patient-created':
    case 'patient-changed': {
      const version = await facts.resource();
      if (version?.resource.resourceType !== 'Patient') return undefined;
      if (filters.patient !== undefined && filters.patient !== version.resource.id) return undefined;
      const focus = `Patient/${version.resource.id ?? ''}`;
      return { seq: entry.seq, focus, orderKey: focus, context: [] };
    }
    case 'slot-availability': {
      const affected = await facts.affectedSchedules();
      const chosen = affected.find(
        (s) =>
          (filters.practitioner === undefined || s.practitioners.includes(filters.practitioner)) &&
          (filters.location === undefined || s.locations.includes(filters.location)),
      );
      if (!chosen) return undefined;
      const focus = `Schedule/${chosen.id}`;
      const cause =
        entry.resourceType && entry.resourceId && entry.resourceType !== 'Schedule'
          ? [`${entry.resourceType}/${entry.resourceId}`]
          : [];
      const others = affected.filter((s) => s !== chosen).map((s) => `Schedule/${s.id}`);
      return { seq: entry.seq, focus, orderKey: focus, context: [...cause, ...others] };
    }
    case 'sync-health': {
      const focus =
        entry.resourceType && entry.resourceId ? `${entry.resourceType}/${entry.resourceId}` : null;
      const stream = (entry.payload as { stream?: unknown } | null)?.stream;
      const orderKey = focus ?? `sync-health:${typeof stream === 'string' ? stream : entry.eventType}`;
      return { seq: entry.seq, focus, orderKey, context: [] };
    }
  }
}

function appointmentMatches(appointment: Appointment, filters: SubscriptionFilters): boolean {
  const actors = (appointment.participant ?? []).map((p) => parseReference(p.actor));
  const has = (type: string, id: string | undefined) =>
    id === undefined || actors.some((a) => a?.type === type && a.id === id);
  return (
    has('Patient', filters.patient) &&
    has('Practitioner', filters.practitioner) &&
    has('Location', filters.location) &&
    (filters.status === undefined || filters.status.includes(appointment.status))
  );
}

/** Events without a resource (a failed booking that never produced one) are matched on payload references. */
function payloadMatches(payload: unknown, filters: SubscriptionFilters): boolean {
  const detail = (typeof payload === 'object' && payload !== null ? payload : {}) as Record<string, unknown>;
  const check = (key: 'patient' | 'practitioner' | 'location', type: string) => {
    const wanted = filters[key];
    if (wanted === undefined) return true;
    const value = detail[key];
    if (typeof value !== 'string') return false;
    const parsed = parseReference({ reference: value });
    return value === wanted || (parsed?.type === type && parsed.id === wanted);
  };
  return (
    check('patient', 'Patient') &&
    check('practitioner', 'Practitioner') &&
    check('location', 'Location') &&
    filters.status === undefined
  );
}
