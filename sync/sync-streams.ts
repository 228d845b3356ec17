/**
 * The four things the engine polls per tenant (DESIGN.md section 5), each a pass that pages, maps, diffs and
 * commits: reference data, the hot window, the warm window, and patients incrementally.
 */
import type { Appointment, Resource } from '@medplum/fhirtypes';
import type { SyncSettings, TenantConfig } from '../src/config.js';
import type { Connector, TimeWindow } from '../src/connectors/connector.js';
import type { Store } from '../src/store/database.js';
import { upstreamIdFor } from '../src/store/upstream-ids.js';
import { startOfLocalDay } from '../src/wall-time.js';
import { lastJournalSeq } from '../src/store/change-journal.js';
import { uncommittedSagaMarkers } from '../src/store/saga-markers.js';
import { applyRecords, type ApplyOptions, type ApplyResult, type RecordSet } from './apply-records.js';

export const STREAMS = ['reference', 'window-hot', 'window-warm', 'patients'] as const;
export type StreamName = (typeof STREAMS)[number];

export interface PassContext {
  store: Store;
  tenant: TenantConfig;
  connector: Connector;
  now: Date;
  signal: AbortSignal;
  /** The stream's cursor from its last success (incremental streams). */
  cursor: string | null;
  /** First successful pass of this stream: load without emitting events. */
  baseline: boolean;
}

export interface PassResult extends ApplyResult {
  /** The cursor to store for the next pass (incremental streams). */
  cursor: string | null;
}

/** How often a stream runs, from the tenant's settings. */
export function streamIntervalSeconds(stream: StreamName, sync: SyncSettings): number {
  switch (stream) {
    case 'reference':
      return sync.referenceIntervalSeconds;
    case 'window-hot':
      return sync.hotIntervalSeconds;
    case 'window-warm':
      return sync.warmIntervalSeconds;
    case 'patients':
      return sync.patientsIntervalSeconds;
  }
}

/** Hot: today … +hotWindowDays; warm: the rest of the booking horizon. Days are the practice's local days. */
export function streamWindow(
  stream: 'window-hot' | 'window-warm',
  now: Date,
  zone: string,
  sync: SyncSettings,
): TimeWindow {
  const hotEnd = startOfLocalDay(now, zone, sync.hotWindowDays);
  return stream === 'window-hot'
    ? { from: startOfLocalDay(now, zone), to: hotEnd }
    : { from: hotEnd, to: startOfLocalDay(now, zone, Math.max(sync.horizonDays, sync.hotWindowDays)) };
}

export async function runPass(stream: StreamName, ctx: PassContext): Promise<PassResult> {
  // Noted before asking the records system: what is written locally after it is newer than what the pass reads.
  const apply: ApplyOptions = {
    baseline: ctx.baseline,
    unchangedSinceSeq: await lastJournalSeq(ctx.store, ctx.tenant.id),
  };
  switch (stream) {
    case 'reference':
      return referencePass(ctx, apply);
    case 'window-hot':
    case 'window-warm':
      return windowPass(stream, ctx, apply);
    case 'patients':
      return patientsPass(ctx, apply);
  }
}

/** Practitioners, locations and schedules: the whole list each time, so anything missing is deleted. */
async function referencePass(ctx: PassContext, apply: ApplyOptions): Promise<PassResult> {
  const data = await ctx.connector.referenceData({ signal: ctx.signal });
  const sets: RecordSet[] = [
    { resourceType: 'Practitioner', records: data.practitioners, scope: {}, vanished: 'delete' },
    { resourceType: 'Location', records: data.locations, scope: {}, vanished: 'delete' },
    { resourceType: 'Schedule', records: data.schedules, scope: {}, vanished: 'delete' },
  ];
  return {
    ...(await applyRecords(ctx.store, ctx.tenant.id, sets, apply)),
    cursor: null,
  };
}

/**
 * Every appointment and block of a window. The records system hard-deletes appointments and reports it only by
 * their absence; an appointment missing from the window is read once more by id before it is deleted, because it
 * may have been moved out of the window rather than removed. A confirmed hard delete becomes a FHIR delete: reads
 * answer 410 Gone, `_history` keeps its last content, and subscribers get `appointment.deleted`. We do not invent
 * a `cancelled` or `entered-in-error` status the practice never set.
 */
async function windowPass(
  stream: 'window-hot' | 'window-warm',
  ctx: PassContext,
  apply: ApplyOptions,
): Promise<PassResult> {
  const window = streamWindow(stream, ctx.now, ctx.connector.timezone, ctx.tenant.sync);
  const scope = { periodFrom: window.from.toISOString(), periodTo: window.to.toISOString() };
  // Appointments are read a page at a time as the pass applies them (issue 16 item 5: a window of 100,000 is not
  // held whole); blocks are few and come at once.
  const blocks = await ctx.connector.blocksInWindow(window, { signal: ctx.signal });
  const appointments = ctx.connector.appointmentPagesInWindow(window, { signal: ctx.signal });
  const confirmVanished = async (fhirId: string) => {
    const upstreamId = await upstreamIdFor(ctx.store, ctx.tenant.id, 'Appointment', fhirId);
    return upstreamId === undefined
      ? null
      : ctx.connector.readAppointment(upstreamId, { signal: ctx.signal });
  };
  const sets: RecordSet[] = [
    {
      resourceType: 'Appointment',
      records: appointments,
      scope,
      vanished: confirmVanished,
      withhold: (resources) => bookingsInFlight(ctx, resources),
    } satisfies RecordSet<Appointment>,
    // Blocks have no read-by-id upstream; one that moved out of the window is re-added by the other window's pass.
    { resourceType: 'Slot', records: blocks, scope, vanished: 'delete' },
  ];
  return {
    ...(await applyRecords(ctx.store, ctx.tenant.id, sets, apply)),
    cursor: null,
  };
}

/**
 * The appointments carrying the correlation marker of a booking saga that has not committed: still in flight
 * (its commit stores and publishes it) or rolled back since the pass began (what it read may predate the undo;
 * it is never published as booked). Issue 10 item 6.
 */
async function bookingsInFlight(ctx: PassContext, resources: readonly Resource[]): Promise<Set<string>> {
  const marked = resources.flatMap((r) => {
    if (r.resourceType !== 'Appointment') return [];
    const marker = ctx.connector.markerOf(r);
    return marker !== undefined && r.id !== undefined ? [{ id: r.id, marker }] : [];
  });
  if (marked.length === 0) return new Set();
  const uncommitted = await uncommittedSagaMarkers(
    ctx.store,
    ctx.tenant.id,
    marked.map((m) => m.marker),
    ctx.now,
  );
  return new Set(marked.filter((m) => uncommitted.has(m.marker)).map((m) => m.id));
}

/** Patients changed since the cursor; absence says nothing here (the list is incremental). */
async function patientsPass(ctx: PassContext, apply: ApplyOptions): Promise<PassResult> {
  const changes = await ctx.connector.patientsChangedSince(ctx.cursor, { signal: ctx.signal });
  const ids = { ids: [] as string[] };
  const sets: RecordSet[] = [
    { resourceType: 'Patient', records: changes.records, scope: ids, vanished: 'ignore' },
  ];
  const result = await applyRecords(ctx.store, ctx.tenant.id, sets, apply);
  return { ...result, cursor: changes.cursor ?? ctx.cursor };
}
