/**
 * Everything the operator console shows (issue 15), gathered per tenant: bookings over 24 h and 7 days, what needs
 * a person, the records system, freshness per stream and the webhooks. Rendering is `console-page.ts`.
 */
import { NEEDS_REVIEW_TAG } from '../booking/patient-registration.js';
import type { TenantConfig } from '../config.js';
import type { ReadinessReport } from '../readiness.js';
import {
  bookingSagaBuckets,
  deliveryCountsBySubscription,
  openAttentionTasks,
  taggedPatientCount,
  type OpenTaskRow,
} from '../store/console-queries.js';
import type { Store } from '../store/database.js';
import { subscriptionRows } from '../store/subscription-rows.js';
import type { DeliveryFailures } from '../webhooks/delivery/notification-builder.js';
import { toSubscriptionRecord } from '../webhooks/subscriptions/subscription-record.js';
import { deliveryFailures } from '../webhooks/subscriptions/subscription-status.js';
import { bookingFigures, type BookingFigures } from './booking-figures.js';
import {
  durationInWords,
  STREAM_WORDS,
  upstreamFailureInWords,
  webhookFailureAdvice,
} from './plain-words.js';
import type { UpstreamSnapshot, UpstreamStats } from './upstream-stats.js';

/** One item of the needs-attention list: what is wrong, what to do, the technical detail. */
export interface AttentionItem {
  kind: 'task' | 'patients-review' | 'dead-letters' | 'webhook-failing' | 'records-system';
  title: string;
  action: string;
  detail: string;
}

export interface WebhookRow {
  id: string;
  endpoint: string;
  status: string;
  lastSuccessAt: string | null;
  failingSince: string | null;
  failures: DeliveryFailures | undefined;
  pending: number;
  deadLettered: number;
}

export interface StreamRow {
  stream: string;
  health: string;
  lastSuccessAt: string | null;
  lastError: string | null;
}

export interface TenantConsole {
  id: string;
  name: string;
  ready: boolean;
  /** The instance running the tenant's sync and recovery (null: none right now; undefined: not reported). */
  syncLeaseHolder?: string | null;
  day: BookingFigures;
  week: BookingFigures;
  attention: AttentionItem[];
  tasks: OpenTaskRow[];
  records: UpstreamSnapshot;
  streams: StreamRow[];
  webhooks: WebhookRow[];
}

export interface ConsoleSources {
  store: Store;
  upstream: UpstreamStats;
  /** A subscription failing longer than this is a needs-attention item. */
  webhookAttentionAfterSeconds: number;
}

export async function tenantConsole(
  sources: ConsoleSources,
  tenant: TenantConfig,
  report: ReadinessReport['tenants'][string] | undefined,
  now: Date,
): Promise<TenantConsole> {
  const db = sources.store.db;
  const dayStart = new Date(Math.floor(now.getTime() / 3600_000) * 3600_000 - 23 * 3600_000);
  const weekStart = new Date(Math.floor(now.getTime() / 86400_000) * 86400_000 - 6 * 86400_000);
  const [dayRows, weekRows, tasks, reviews, counts, subscriptions] = await Promise.all([
    bookingSagaBuckets(db, tenant.id, dayStart.toISOString(), 'hour'),
    bookingSagaBuckets(db, tenant.id, weekStart.toISOString(), 'day'),
    openAttentionTasks(db, tenant.id),
    taggedPatientCount(db, tenant.id, NEEDS_REVIEW_TAG),
    deliveryCountsBySubscription(db, tenant.id),
    subscriptionRows(db, tenant.id, { order: 'created' }),
  ]);
  const records = subscriptions.map(toSubscriptionRecord);
  const failures = await deliveryFailures(sources.store, tenant.id, records);
  const webhooks: WebhookRow[] = records.map((s) => ({
    id: s.id,
    endpoint: s.endpoint,
    status: s.status,
    lastSuccessAt: s.lastSuccessAt,
    failingSince: s.failingSince,
    failures: failures.get(s.id),
    pending: counts.get(s.id)?.pending ?? 0,
    deadLettered: counts.get(s.id)?.deadLettered ?? 0,
  }));
  // In the order a practice thinks of them: today first, reference data last.
  const order = Object.keys(STREAM_WORDS);
  const rank = (stream: string) => (order.includes(stream) ? order.indexOf(stream) : order.length);
  const streams: StreamRow[] = Object.entries(report?.streams ?? {})
    .map(([stream, s]) => ({ stream, ...s }))
    .sort((a, b) => rank(a.stream) - rank(b.stream));
  const upstream = sources.upstream.snapshot(tenant.id);
  return {
    id: tenant.id,
    name: tenant.name,
    ready: report?.ready ?? false,
    ...(report && 'syncLeaseHolder' in report ? { syncLeaseHolder: report.syncLeaseHolder ?? null } : {}),
    day: bookingFigures(dayRows, now, 'hour', 24),
    week: bookingFigures(weekRows, now, 'day', 7),
    attention: attentionItems({ tasks, reviews, webhooks, upstream, streams }, sources, now),
    tasks,
    records: upstream,
    streams,
    webhooks,
  };
}

function attentionItems(
  facts: {
    tasks: OpenTaskRow[];
    reviews: number;
    webhooks: WebhookRow[];
    upstream: UpstreamSnapshot;
    streams: StreamRow[];
  },
  sources: ConsoleSources,
  now: Date,
): AttentionItem[] {
  const items: AttentionItem[] = [];
  const failingStream = facts.streams.find((s) => s.health === 'failing');
  if (facts.upstream.reachable === 'no' || failingStream) {
    const lastError = facts.upstream.lastError;
    items.push({
      kind: 'records-system',
      title: 'The records system is not answering',
      action: lastError
        ? upstreamFailureInWords(lastError.call.outcome)
        : 'Switchboard cannot update from the records system. Check that it is running and reachable; Switchboard retries by itself.',
      detail: [
        lastError ? `${lastError.call.endpoint}: ${lastError.call.error ?? lastError.call.outcome}` : '',
        failingStream?.lastError ?? '',
      ]
        .filter(Boolean)
        .join(' — '),
    });
  }
  if (facts.tasks.length > 0) {
    const n = facts.tasks.length;
    items.push({
      kind: 'task',
      title: `${n} booking${n === 1 ? '' : 's'} need${n === 1 ? 's' : ''} a person`,
      action:
        'Switchboard could not finish or undo these bookings by itself. Do what each one says in the records system, then mark its Task completed.',
      detail: facts.tasks.map((t) => `Task/${t.id}: ${t.description}`).join('\n'),
    });
  }
  if (facts.reviews > 0) {
    items.push({
      kind: 'patients-review',
      title: `${facts.reviews} new patient${facts.reviews === 1 ? '' : 's'} awaiting review`,
      action:
        'Bookings created these patients in the records system. Check each for a duplicate of an existing patient and merge or correct it there; a patient leaves this list once its record changes in the records system.',
      detail: `Patients tagged ${NEEDS_REVIEW_TAG.system}|${NEEDS_REVIEW_TAG.code ?? ''} in meta.tag.`,
    });
  }
  const dead = facts.webhooks.filter((w) => w.deadLettered > 0);
  for (const w of dead) {
    items.push({
      kind: 'dead-letters',
      title: `${w.deadLettered} notification${w.deadLettered === 1 ? '' : 's'} to ${w.endpoint} could not be delivered`,
      action:
        'Switchboard gave up on them after retrying. Once the receiving system works again, send them again with POST Subscription/' +
        `${w.id}/$redrive.`,
      detail: `Subscription/${w.id}/$dead-letters lists them.`,
    });
  }
  const thresholdMs = sources.webhookAttentionAfterSeconds * 1000;
  for (const w of facts.webhooks) {
    if (w.failingSince === null) continue;
    const failingMs = now.getTime() - Date.parse(w.failingSince);
    if (failingMs < thresholdMs) continue;
    const status = w.failures?.lastStatus ?? null;
    items.push({
      kind: 'webhook-failing',
      title: `Notifications to ${w.endpoint} have failed for ${durationInWords(failingMs)}`,
      action: webhookFailureAdvice(status),
      detail: `Subscription/${w.id}: ${w.failures?.count ?? 0} failed attempts since ${w.failingSince}; last ${
        status === null ? 'no answer' : `HTTP ${status}`
      }: ${w.failures?.lastReason ?? ''}`,
    });
  }
  return items;
}
