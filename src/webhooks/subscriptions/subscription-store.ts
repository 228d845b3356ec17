/**
 * Webhook subscriptions in the store (DESIGN.md sections 3 and 6): the FHIR Subscription resource is stored and
 * versioned like any resource (`recordChanges`, `src/events/change-writer.ts`), and its run-time row in `subscriptions` is written
 * in the same transaction. These functions are what the FHIR facade's Subscription endpoints call; every one
 * takes the tenant id and touches that tenant's rows only.
 *
 * Status lifecycle (standards.md 4.2, "rest-hook lifecycle"): created `requested` → the dispatcher's handshake
 * → `active` on 2xx, `error` otherwise. `off` when the client pauses it, the endpoint answers 410 Gone, or it
 * has failed for longer than the configured period. Switching back on goes through `requested` (a new
 * handshake), then activation catches up: every event since the subscription stopped being active is matched
 * and enqueued, and dead letters after the last delivered event are redriven.
 *
 * Lock order, to stay deadlock-free on PostgreSQL: every transaction here takes the tenant's journal counter
 * (`lockTenantJournal`) before touching a subscription row, like every commit does.
 */
import { randomUUID } from 'node:crypto';
import type { Subscription } from '@medplum/fhirtypes';
import { recordChanges } from '../../events/change-writer.js';
import type { EventType, JournalEventInput } from '../../events/event-types.js';
import { lockedLastJournalSeq, lockTenantJournal, type JournalEntry } from '../../store/change-journal.js';
import type { Store, StoreTransaction } from '../../store/database.js';
import { readResource, type StoredResource } from '../../store/resource-store.js';
import type { SubscriptionsTable } from '../../store/schema.js';
import { checkEndpoint, EndpointRefusedError, type EndpointPolicy } from '../delivery/endpoint-guard.js';
import { enqueueMatches, matchJournalEntries, type MatchedEvent } from '../delivery/outbox-matching.js';
import { SubscriptionError } from './subscription-error.js';
import {
  filterColumns,
  toSubscriptionRecord,
  type SubscriptionRecord,
  type SubscriptionStatus,
} from './subscription-record.js';
import {
  parseSubscription,
  storedSubscriptionResource,
  type BackportSubscription,
  type SubscriptionSpec,
} from './subscription-resource.js';
import { generateWebhookSecret } from '../delivery/webhook-signing.js';

/** Journal event appended when the server switches a subscription off. */
export const SUBSCRIPTION_DISABLED_EVENT: EventType = 'subscription.disabled';
/** Journal event appended when a client switches a subscription back on. */
export const SUBSCRIPTION_ENABLED_EVENT: EventType = 'subscription.enabled';

/** A subscription: its delivery state and its stored FHIR resource. */
export interface SubscriptionView {
  subscription: SubscriptionRecord;
  resource: StoredResource<Subscription>;
}

/** What {@link createSubscription} returns: the view plus the signing secret, which is never readable again. */
export interface CreatedSubscription extends SubscriptionView {
  secret: string;
}

/** Dependencies of the writing functions. */
export interface SubscriptionWriteOptions {
  /** The SSRF policy the endpoint must pass (built from the `webhooks` configuration). */
  policy: EndpointPolicy;
  now?: Date;
}

/**
 * Registers a subscription from a client's Subscription resource: validates it (topic, filters, channel), checks
 * the endpoint against the SSRF policy, stores the resource with `status = requested` and a new signing secret.
 * The dispatcher then sends the handshake.
 * @throws SubscriptionError (`security` when the endpoint is refused)
 * @see standards.md 4.2
 */
export async function createSubscription(
  store: Store,
  tenantId: string,
  resource: BackportSubscription,
  options: SubscriptionWriteOptions,
): Promise<CreatedSubscription> {
  const spec = parseSubscription(resource);
  await checkRegistrationEndpoint(spec.endpoint, options.policy);
  const now = options.now ?? store.now();
  const id = randomUUID();
  const secret = generateWebhookSecret();
  await store.write(async (trx) => {
    const lastSeq = await lockedLastJournalSeq(trx, tenantId);
    await recordChanges(
      trx,
      tenantId,
      {
        resources: [
          {
            op: 'upsert',
            resource: storedSubscriptionResource(resource, { id, status: 'requested' }) as Subscription & {
              id: string;
            },
          },
        ],
      },
      now,
    );
    await trx
      .insertInto('subscriptions')
      .values({
        tenant_id: tenantId,
        id,
        status: 'requested',
        ...specColumns(spec),
        secret,
        previous_secret: null,
        previous_secret_expires_at: null,
        events_since_start: 0,
        last_delivered_event: 0,
        failing_since: null,
        last_error: null,
        paused_at_seq: lastSeq,
        last_notified_at: null,
        created_at: now.toISOString(),
        updated_at: now.toISOString(),
      })
      .execute();
  });
  const view = await readSubscription(store, tenantId, id);
  if (!view) throw new Error(`subscription ${id} vanished right after it was created`);
  return { ...view, secret };
}

/**
 * One subscription, or undefined when the tenant has none with that id.
 *
 * @see DESIGN.md section 6
 */
export async function readSubscription(
  store: Store,
  tenantId: string,
  id: string,
): Promise<SubscriptionView | undefined> {
  const row = await readSubscriptionRow(store, tenantId, id);
  if (!row) return undefined;
  const resource = await readResource(store, tenantId, 'Subscription', id);
  if (!resource || resource.deleted) return undefined;
  return { subscription: toSubscriptionRecord(row), resource };
}

/**
 * The tenant's subscriptions, oldest first, optionally only those with one of `status`.
 *
 * @see DESIGN.md section 6
 */
export async function listSubscriptions(
  store: Store,
  tenantId: string,
  options: { status?: readonly SubscriptionStatus[] } = {},
): Promise<SubscriptionRecord[]> {
  let query = store.db
    .selectFrom('subscriptions')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .orderBy('created_at')
    .orderBy('id');
  if (options.status !== undefined) {
    if (options.status.length === 0) return [];
    query = query.where('status', 'in', [...options.status]);
  }
  return (await query.execute()).map(toSubscriptionRecord);
}

/**
 * Replaces a subscription with a client's updated resource. The server keeps the status unless the client asks
 * for `off` (pause), or for `requested`/`active` while it is `off` or `error` (switch back on: a new handshake,
 * then catch-up), or the endpoint changed (a new handshake). Secrets and counters are kept.
 * `ifMatchVersion` (the client's `If-Match`) is compared with the current version inside the write
 * transaction, so two clients updating from the same version cannot both win.
 * @throws SubscriptionError (`not-found` when there is no such subscription, `conflict` when the current
 *   version is not `ifMatchVersion`)
 * @see standards.md 4.2
 */
export async function updateSubscription(
  store: Store,
  tenantId: string,
  id: string,
  resource: BackportSubscription,
  options: SubscriptionWriteOptions & { ifMatchVersion?: number },
): Promise<SubscriptionView> {
  const spec = parseSubscription(resource);
  await checkRegistrationEndpoint(spec.endpoint, options.policy);
  const now = options.now ?? store.now();
  await store.write(async (trx) => {
    const lastSeq = await lockedLastJournalSeq(trx, tenantId);
    const row = await subscriptionRow(trx, tenantId, id);
    if (options.ifMatchVersion !== undefined) {
      const current = await trx
        .selectFrom('resources')
        .select('version_id')
        .where('tenant_id', '=', tenantId)
        .where('resource_type', '=', 'Subscription')
        .where('id', '=', id)
        .executeTakeFirst();
      if (current?.version_id !== options.ifMatchVersion) {
        throw new SubscriptionError(
          'conflict',
          `Subscription/${id} is at version ${current?.version_id ?? 'none'}, not ${options.ifMatchVersion}`,
        );
      }
    }
    const current = row.status as SubscriptionStatus;
    let next = current;
    if (spec.requestedStatus === 'off') next = 'off';
    else if (current === 'off' || current === 'error') next = 'requested';
    else if (spec.endpoint !== row.endpoint) next = 'requested';
    const events: JournalEventInput[] =
      (current === 'off' || current === 'error') && next === 'requested'
        ? [
            {
              eventType: SUBSCRIPTION_ENABLED_EVENT,
              resourceType: 'Subscription',
              resourceId: id,
              payload: { previous: current },
            },
          ]
        : [];
    await trx
      .updateTable('subscriptions')
      .set({
        ...specColumns(spec),
        status: next,
        paused_at_seq: current === 'active' && next !== 'active' ? lastSeq : row.paused_at_seq,
        last_error: next === current ? row.last_error : null,
        failing_since: next === current ? row.failing_since : null,
        updated_at: now.toISOString(),
      })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .execute();
    await recordChanges(
      trx,
      tenantId,
      {
        resources: [
          {
            op: 'upsert',
            resource: storedSubscriptionResource(resource, {
              id,
              status: next,
              error: next === current ? row.last_error : null,
            }) as Subscription & { id: string },
          },
        ],
        events,
      },
      now,
    );
  });
  return mustRead(store, tenantId, id);
}

/**
 * Deletes a subscription: its resource gets a deleted version (reads answer 410), its run-time row and its
 * outbox rows go. Returns false when there was none.
 *
 * @see DESIGN.md section 6
 */
export async function deleteSubscription(
  store: Store,
  tenantId: string,
  id: string,
  options: { now?: Date } = {},
): Promise<boolean> {
  const now = options.now ?? store.now();
  return store.write(async (trx) => {
    await lockTenantJournal(trx, tenantId);
    const deleted = await trx
      .deleteFrom('subscriptions')
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .executeTakeFirst();
    if (Number(deleted.numDeletedRows) === 0) return false;
    await trx
      .deleteFrom('outbox')
      .where('tenant_id', '=', tenantId)
      .where('subscription_id', '=', id)
      .execute();
    await recordChanges(
      trx,
      tenantId,
      { resources: [{ op: 'delete', resourceType: 'Subscription', id }] },
      now,
    );
    return true;
  });
}

/**
 * Rotates the signing secret: a new one signs from now on, and the current one keeps signing too (both
 * signatures on every message) for `overlapSeconds`, so receivers can switch without a failed verification.
 * Returns the new secret, which is never readable again.
 * @throws SubscriptionError (`not-found`)
 * @see standards.md section 5 (rotation)
 */
export async function rotateSubscriptionSecret(
  store: Store,
  tenantId: string,
  id: string,
  options: { overlapSeconds: number; now?: Date },
): Promise<{ secret: string; previousSecretExpiresAt: string }> {
  const now = options.now ?? store.now();
  const secret = generateWebhookSecret();
  const expiresAt = new Date(now.getTime() + options.overlapSeconds * 1000).toISOString();
  await store.write(async (trx) => {
    await lockTenantJournal(trx, tenantId);
    const row = await subscriptionRow(trx, tenantId, id);
    await trx
      .updateTable('subscriptions')
      .set({
        secret,
        previous_secret: row.secret,
        previous_secret_expires_at: expiresAt,
        updated_at: now.toISOString(),
      })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .execute();
  });
  return { secret, previousSecretExpiresAt: expiresAt };
}

/**
 * Pauses a subscription (`off`): nothing is matched or sent until it is switched back on.
 * @throws SubscriptionError (`not-found`)
 */
export async function pauseSubscription(
  store: Store,
  tenantId: string,
  id: string,
  options: { now?: Date } = {},
): Promise<SubscriptionView> {
  await changeStatus(store, tenantId, id, 'off', { error: null, now: options.now ?? store.now() });
  return mustRead(store, tenantId, id);
}

/**
 * Switches an `off` or `error` subscription back on: `requested`, so the dispatcher shakes hands again and then
 * catches up from the last delivered event. Appends `subscription.enabled`.
 * @throws SubscriptionError (`not-found`)
 */
export async function reenableSubscription(
  store: Store,
  tenantId: string,
  id: string,
  options: { now?: Date } = {},
): Promise<SubscriptionView> {
  await changeStatus(store, tenantId, id, 'requested', {
    error: null,
    now: options.now ?? store.now(),
    only: ['off', 'error'],
    events: (previous) => [
      {
        eventType: SUBSCRIPTION_ENABLED_EVENT,
        resourceType: 'Subscription',
        resourceId: id,
        payload: { previous },
      },
    ],
  });
  return mustRead(store, tenantId, id);
}

/**
 * Dispatcher: the handshake succeeded. Activates the subscription and catches up in one transaction: every
 * journal event since it stopped being active is matched and enqueued, dead letters after the last delivered
 * event are redriven, and pending deliveries get a fresh retry window and are due now.
 *
 * @see DESIGN.md section 6 ("re-enabled with catch-up from its last delivered event")
 */
export async function activateSubscription(
  store: Store,
  tenantId: string,
  id: string,
  options: { now?: Date } = {},
): Promise<{ caughtUp: number; redriven: number }> {
  const now = options.now ?? store.now();
  const nowText = now.toISOString();
  return store.write(async (trx) => {
    await lockTenantJournal(trx, tenantId);
    const row = await trx
      .selectFrom('subscriptions')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row || row.status !== 'requested') return { caughtUp: 0, redriven: 0 };
    const caughtUp =
      row.paused_at_seq === null ? 0 : await catchUp(trx, tenantId, row, row.paused_at_seq, now);
    const redriven = await trx
      .updateTable('outbox')
      .set({ dead_lettered_at: null, attempts: 0, next_attempt_at: nowText, retry_started_at: nowText })
      .where('tenant_id', '=', tenantId)
      .where('subscription_id', '=', id)
      .where('dead_lettered_at', 'is not', null)
      .where('event_number', '>', row.last_delivered_event)
      .executeTakeFirst();
    await trx
      .updateTable('outbox')
      .set({ attempts: 0, next_attempt_at: nowText, retry_started_at: nowText })
      .where('tenant_id', '=', tenantId)
      .where('subscription_id', '=', id)
      .where('delivered_at', 'is', null)
      .where('dead_lettered_at', 'is', null)
      .execute();
    await setRowStatus(trx, tenantId, row, 'active', null, now, {
      last_notified_at: nowText,
      failing_since: null,
    });
    return { caughtUp, redriven: Number(redriven.numUpdatedRows) };
  });
}

/**
 * Dispatcher: the handshake failed; the subscription goes to `error` with `message`.
 */
export async function markSubscriptionError(
  store: Store,
  tenantId: string,
  id: string,
  message: string,
  options: { now?: Date } = {},
): Promise<void> {
  await changeStatus(store, tenantId, id, 'error', {
    error: message,
    now: options.now ?? store.now(),
    only: ['requested'],
  });
}

/**
 * Dispatcher: switches an active subscription off (410 Gone, failing too long, ended) and appends
 * `subscription.disabled` so subscribers of the `sync-health` topic hear of it. Returns false (and does nothing)
 * when it is not `active` any more.
 */
export async function disableSubscription(
  store: Store,
  tenantId: string,
  id: string,
  reason: 'gone' | 'failing' | 'ended',
  message: string,
  options: { now?: Date } = {},
): Promise<boolean> {
  return changeStatus(store, tenantId, id, 'off', {
    error: message,
    now: options.now ?? store.now(),
    only: ['active'],
    events: (previous) => [
      {
        eventType: SUBSCRIPTION_DISABLED_EVENT,
        resourceType: 'Subscription',
        resourceId: id,
        payload: { reason, previous, message },
      },
    ],
  });
}

/** The row with its secrets (the dispatcher's view), or undefined when the tenant has none with that id. */
export async function readSubscriptionRow(
  store: Store,
  tenantId: string,
  id: string,
): Promise<SubscriptionsTable | undefined> {
  return store.db
    .selectFrom('subscriptions')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
}

/** Dispatcher: the tenant's subscriptions in `status`, with secrets. */
export async function subscriptionRowsWithStatus(
  store: Store,
  tenantId: string,
  status: SubscriptionStatus,
): Promise<SubscriptionsTable[]> {
  return store.db
    .selectFrom('subscriptions')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('status', '=', status)
    .execute();
}

/** The secrets to sign with at `now`: the current one, then the previous one while its overlap lasts. */
export function signingSecrets(row: SubscriptionsTable, now: Date): string[] {
  const secrets = [row.secret];
  if (
    row.previous_secret !== null &&
    row.previous_secret_expires_at !== null &&
    row.previous_secret_expires_at > now.toISOString()
  ) {
    secrets.push(row.previous_secret);
  }
  return secrets;
}

async function changeStatus(
  store: Store,
  tenantId: string,
  id: string,
  status: SubscriptionStatus,
  options: {
    error: string | null;
    now: Date;
    /** Change only from these statuses; otherwise nothing happens (false). */
    only?: readonly SubscriptionStatus[];
    events?: (previous: SubscriptionStatus) => JournalEventInput[];
  },
): Promise<boolean> {
  return store.write(async (trx) => {
    await lockTenantJournal(trx, tenantId);
    const row = await subscriptionRow(trx, tenantId, id);
    const previous = row.status as SubscriptionStatus;
    if (options.only && !options.only.includes(previous)) return false;
    await setRowStatus(
      trx,
      tenantId,
      row,
      status,
      options.error,
      options.now,
      {},
      options.events?.(previous) ?? [],
    );
    return true;
  });
}

/** Sets the row's status and writes the matching resource version, in the caller's (locked) transaction. */
async function setRowStatus(
  trx: StoreTransaction,
  tenantId: string,
  row: SubscriptionsTable,
  status: SubscriptionStatus,
  error: string | null,
  now: Date,
  extra: Partial<SubscriptionsTable>,
  events: JournalEventInput[] = [],
): Promise<void> {
  const leavingActive = row.status === 'active' && status !== 'active';
  const pausedAtSeq = leavingActive
    ? await lockedLastJournalSeq(trx, tenantId)
    : status === 'active'
      ? null
      : row.paused_at_seq;
  await trx
    .updateTable('subscriptions')
    .set({ ...extra, status, last_error: error, paused_at_seq: pausedAtSeq, updated_at: now.toISOString() })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', row.id)
    .execute();
  const current = await trx
    .selectFrom('resources')
    .select('resource')
    .where('tenant_id', '=', tenantId)
    .where('resource_type', '=', 'Subscription')
    .where('id', '=', row.id)
    .executeTakeFirst();
  if (!current) return;
  const resource = JSON.parse(current.resource) as BackportSubscription;
  await recordChanges(
    trx,
    tenantId,
    {
      resources: [
        {
          op: 'upsert',
          resource: storedSubscriptionResource(resource, { id: row.id, status, error }) as Subscription & {
            id: string;
          },
        },
      ],
      events,
    },
    now,
  );
}

/** Matches every journal event after `afterSeq` against this one subscription and enqueues what is not yet queued. */
async function catchUp(
  trx: StoreTransaction,
  tenantId: string,
  row: SubscriptionsTable,
  afterSeq: number,
  now: Date,
): Promise<number> {
  const target = { id: row.id, topic: row.topic, filters: toSubscriptionRecord(row).filters };
  const queued = new Set(
    (
      await trx
        .selectFrom('outbox')
        .select('seq')
        .where('tenant_id', '=', tenantId)
        .where('subscription_id', '=', row.id)
        .where('seq', '>', afterSeq)
        .execute()
    ).map((r) => r.seq),
  );
  let after = afterSeq;
  let enqueued = 0;
  for (;;) {
    const rows = await trx
      .selectFrom('change_journal')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('seq', '>', after)
      .orderBy('seq')
      .limit(500)
      .execute();
    if (rows.length === 0) break;
    after = rows[rows.length - 1]?.seq ?? after;
    const entries: JournalEntry[] = rows
      .filter((r) => !queued.has(r.seq))
      .filter((r) => row.end_at === null || r.occurred_at <= row.end_at)
      .map((r) => ({
        tenantId: r.tenant_id,
        seq: r.seq,
        eventType: r.event_type,
        resourceType: r.resource_type,
        resourceId: r.resource_id,
        versionId: r.version_id,
        occurredAt: r.occurred_at,
        payload: r.payload === null ? null : (JSON.parse(r.payload) as unknown),
      }));
    const matches = await matchJournalEntries(trx, tenantId, entries, [target]);
    enqueued += await enqueueMatches(trx, tenantId, matches as Map<string, MatchedEvent[]>, now);
  }
  return enqueued;
}

async function subscriptionRow(
  trx: StoreTransaction,
  tenantId: string,
  id: string,
): Promise<SubscriptionsTable> {
  const row = await trx
    .selectFrom('subscriptions')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) throw new SubscriptionError('not-found', `Subscription/${id} does not exist`);
  return row;
}

async function mustRead(store: Store, tenantId: string, id: string): Promise<SubscriptionView> {
  const view = await readSubscription(store, tenantId, id);
  if (!view) throw new SubscriptionError('not-found', `Subscription/${id} does not exist`);
  return view;
}

async function checkRegistrationEndpoint(endpoint: string, policy: EndpointPolicy): Promise<void> {
  try {
    await checkEndpoint(endpoint, policy);
  } catch (error) {
    if (error instanceof EndpointRefusedError) {
      throw new SubscriptionError(
        'security',
        `endpoint refused: ${error.message}`,
        'Subscription.channel.endpoint',
      );
    }
    throw error;
  }
}

function specColumns(spec: SubscriptionSpec) {
  return {
    topic: spec.topic.url,
    ...filterColumns(spec.filters),
    endpoint: spec.endpoint,
    payload_content: spec.payloadContent,
    content_type: spec.contentType,
    headers: spec.headers.length > 0 ? JSON.stringify(spec.headers) : null,
    heartbeat_seconds: spec.heartbeatSeconds,
    timeout_seconds: spec.timeoutSeconds,
    max_count: spec.maxCount,
    end_at: spec.end,
  };
}
