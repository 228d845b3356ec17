/**
 * Loading what a notification says about its events (DESIGN.md section 6): the journal entry, and the focus
 * resource at the version the event reported (from `resource_history`, so a retry days later still sends what
 * happened, not what is current). A focus that is not the event's own resource (a Schedule whose availability an
 * appointment changed) is sent at its current version.
 */
import type { Resource, ResourceType } from '@medplum/fhirtypes';
import { readJournalEntries } from '../../store/change-journal.js';
import type { Store } from '../../store/database.js';
import { readResource, readVersion } from '../../store/resource-store.js';

/** The focus of one event. */
export interface EventFocus {
  /** `Type/id`. */
  reference: string;
  versionId: number | null;
  lastUpdated: string | null;
  /** The event deleted the resource (the content is its last version). */
  deleted: boolean;
  /** Undefined when the resource is not in the store. */
  resource: Resource | undefined;
}

/** One event as a notification carries it. */
export interface NotificationEvent {
  eventNumber: number;
  seq: number;
  eventType: string;
  /** ISO-8601 UTC. */
  occurredAt: string;
  payload: unknown;
  focus: EventFocus | null;
  context: string[];
}

/** An outbox row's event coordinates. */
export interface EventCoordinates {
  seq: number;
  eventNumber: number;
  focus: string | null;
  context: readonly string[];
}

/**
 * The events of `rows`, in the order given; rows whose journal entry is gone are skipped.
 *
 * @see DESIGN.md section 6
 */
export async function loadNotificationEvents(
  store: Store,
  tenantId: string,
  rows: readonly EventCoordinates[],
): Promise<NotificationEvent[]> {
  if (rows.length === 0) return [];
  const journal = await readJournalEntries(
    store,
    tenantId,
    rows.map((r) => r.seq),
  );
  const bySeq = new Map(journal.map((row) => [row.seq, row]));
  const events: NotificationEvent[] = [];
  for (const row of rows) {
    const entry = bySeq.get(row.seq);
    if (!entry) continue;
    let focus: EventFocus | null = null;
    if (row.focus !== null) {
      const [type, id] = row.focus.split('/') as [ResourceType, string];
      const own = entry.resourceType === type && entry.resourceId === id;
      const stored =
        own && entry.versionId !== null
          ? await readVersion(store, tenantId, type, id, entry.versionId)
          : await readResource(store, tenantId, type, id);
      focus = {
        reference: row.focus,
        versionId: stored?.versionId ?? null,
        lastUpdated: stored?.lastUpdated ?? null,
        deleted: stored?.deleted ?? false,
        resource: stored?.resource,
      };
    }
    events.push({
      eventNumber: row.eventNumber,
      seq: row.seq,
      eventType: entry.eventType,
      occurredAt: entry.occurredAt,
      payload: entry.payload,
      focus,
      context: [...row.context],
    });
  }
  return events;
}
