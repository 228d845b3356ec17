/**
 * Webhook subscriptions in the store (DESIGN.md sections 3 and 6): the FHIR Subscription resource is stored and
 * versioned like any resource (`recordChanges`, `src/events/change-writer.ts`), and its run-time row in
 * `subscriptions` is written in the same transaction. These functions are what the FHIR facade's Subscription
 * endpoints call; every one takes the tenant id and touches that tenant's rows only.
 *
 * Status lifecycle (standards.md 4.2, "rest-hook lifecycle"; the transitions are `subscription-lifecycle.ts`):
 * created `requested` → the dispatcher's handshake → `active` on 2xx, `error` otherwise. `off` when the client
 * pauses it, the endpoint answers 410 Gone, or it has failed for longer than the configured period. Switching
 * back on goes through `requested` (a new handshake), then activation catches up: every event since the
 * subscription stopped being active is matched and enqueued, and dead letters after the last delivered event
 * are redriven.
 *
 * Lock order, to stay deadlock-free on PostgreSQL: every transaction here takes the tenant's journal counter
 * (`lockTenantJournal`) before touching a subscription row, like every commit does.
 */
import { randomUUID } from 'node:crypto';
import type { Subscription } from '@medplum/fhirtypes';
import { recordChanges } from '../../events/change-writer.js';
import type { EventType, JournalEventInput } from '../../events/event-types.js';
import { lockedLastJournalSeq, lockTenantJournal } from '../../store/change-journal.js';
import type { Store, StoreTransaction } from '../../store/database.js';
import { readResource, type StoredResource } from '../../store/resource-store.js';
import { deleteOutboxRowsOf } from '../../store/outbox-queries.js';
import type { SubscriptionsTable } from '../../store/schema.js';
import {
  currentSubscriptionResource,
  deleteSubscriptionRow,
  insertSubscriptionRow,
  subscriptionRowById,
  subscriptionRows,
  updateSubscriptionRow,
} from '../../store/subscription-rows.js';
import { checkEndpoint, EndpointRefusedError, type EndpointPolicy } from '../delivery/endpoint-guard.js';
import { SubscriptionError } from './subscription-error.js';
import {
  filterColumns,
  openHeaders,
  sealHeaders,
  sealSecret,
  toDeliveryTarget,
  toSubscriptionRecord,
  type DeliveryTarget,
  type SubscriptionRecord,
  type SubscriptionStatus,
} from './subscription-record.js';
import {
  parseSubscription,
  storedSubscriptionResource,
  unmaskHeaders,
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
  /** The client creating it: its owner (issue 14); other clients of the tenant see it only as operators. */
  owner?: string;
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
  if (!store.secrets.canSeal) {
    throw new SubscriptionError(
      'not-supported',
      'webhook subscriptions are not available: the server has no secret key to keep their signing secrets ' +
        'encrypted (its operator sets SWITCHBOARD_SECRET_KEY or SWITCHBOARD_SECRET_KEY_FILE)',
    );
  }
  const now = options.now ?? store.now();
  const id = randomUUID();
  const secret = generateWebhookSecret();
  await store.write(async (trx) => {
    const lastSeq = await lockedLastJournalSeq(trx, tenantId);
    await recordSubscriptionVersion(
      trx,
      tenantId,
      storedSubscriptionResource(resource, { id, status: 'requested' }),
      [],
      now,
    );
    await insertSubscriptionRow(trx, {
      tenant_id: tenantId,
      id,
      status: 'requested',
      ...specColumns(spec),
      headers: sealHeaders(tenantId, id, spec.headers, store.secrets),
      secret: sealSecret(tenantId, id, secret, store.secrets),
      previous_secret: null,
      previous_secret_expires_at: null,
      events_since_start: 0,
      last_delivered_event: 0,
      failing_since: null,
      last_error: null,
      paused_at_seq: lastSeq,
      last_notified_at: null,
      last_success_at: null,
      created_at: now.toISOString(),
      updated_at: now.toISOString(),
      owner_client_id: options.owner ?? null,
    });
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
  const subscription = await readSubscriptionRecord(store, tenantId, id);
  if (!subscription) return undefined;
  const resource = await readResource(store, tenantId, 'Subscription', id);
  if (!resource || resource.deleted) return undefined;
  return { subscription, resource };
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
  const rows = await subscriptionRows(store.db, tenantId, { status: options.status, order: 'created' });
  return rows.map(toSubscriptionRecord);
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
      const current = await currentSubscriptionResource(trx, tenantId, id);
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
    const headers = unmaskHeaders(spec.headers, openHeaders(row, store.secrets));
    await updateSubscriptionRow(trx, tenantId, id, {
      ...specColumns(spec),
      headers: sealHeaders(tenantId, id, headers, store.secrets),
      status: next,
      paused_at_seq: current === 'active' && next !== 'active' ? lastSeq : row.paused_at_seq,
      last_error: next === current ? row.last_error : null,
      failing_since: next === current ? row.failing_since : null,
      updated_at: now.toISOString(),
    });
    await recordSubscriptionVersion(
      trx,
      tenantId,
      storedSubscriptionResource(resource, {
        id,
        status: next,
        error: next === current ? row.last_error : null,
      }),
      events,
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
    if (!(await deleteSubscriptionRow(trx, tenantId, id))) return false;
    await deleteOutboxRowsOf(trx, tenantId, id);
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
    await updateSubscriptionRow(trx, tenantId, id, {
      secret: sealSecret(tenantId, id, secret, store.secrets),
      previous_secret: row.secret,
      previous_secret_expires_at: expiresAt,
      updated_at: now.toISOString(),
    });
  });
  return { secret, previousSecretExpiresAt: expiresAt };
}

/** The record alone (no resource), or undefined when the tenant has none with that id. */
export async function readSubscriptionRecord(
  store: Store,
  tenantId: string,
  id: string,
): Promise<SubscriptionRecord | undefined> {
  const row = await readRow(store, tenantId, id);
  return row && toSubscriptionRecord(row);
}

/** Dispatcher: the record with its secrets, or undefined when the tenant has none with that id. */
export async function readDeliveryTarget(
  store: Store,
  tenantId: string,
  id: string,
): Promise<DeliveryTarget | undefined> {
  const row = await readRow(store, tenantId, id);
  return row && toDeliveryTarget(row, store.secrets);
}

/** Dispatcher: the tenant's subscriptions in `status`, with secrets. */
export async function deliveryTargetsWithStatus(
  store: Store,
  tenantId: string,
  status: SubscriptionStatus,
): Promise<DeliveryTarget[]> {
  const rows = await subscriptionRows(store.db, tenantId, { status: [status] });
  return rows.map((row) => toDeliveryTarget(row, store.secrets));
}

function readRow(store: Store, tenantId: string, id: string): Promise<SubscriptionsTable | undefined> {
  return subscriptionRowById(store.db, tenantId, id);
}

/** The row, locked by the caller's transaction. @throws SubscriptionError (`not-found`) */
export async function subscriptionRow(
  trx: StoreTransaction,
  tenantId: string,
  id: string,
): Promise<SubscriptionsTable> {
  const row = await subscriptionRowById(trx, tenantId, id);
  if (!row) throw new SubscriptionError('not-found', `Subscription/${id} does not exist`);
  return row;
}

/** @throws SubscriptionError (`not-found`) */
export async function mustRead(store: Store, tenantId: string, id: string): Promise<SubscriptionView> {
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
    heartbeat_seconds: spec.heartbeatSeconds,
    timeout_seconds: spec.timeoutSeconds,
    max_count: spec.maxCount,
    end_at: spec.end,
  };
}

/** Records a new version of the Subscription resource, with `events`, in the caller's transaction. */
export async function recordSubscriptionVersion(
  trx: StoreTransaction,
  tenantId: string,
  resource: Subscription & { id: string },
  events: readonly JournalEventInput[],
  now: Date,
): Promise<void> {
  await recordChanges(trx, tenantId, { resources: [{ op: 'upsert', resource }], events }, now);
}
