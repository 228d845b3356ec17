/**
 * Versions of the stored inputs of free time, per owner and UTC day (issue 16 item 3; table of migration 0017).
 *
 * Free time is derived from Appointments (busy time of their practitioner) and stored Slots (blocks and closures of
 * their schedule). The one write path of resources (`writeChangesInTransaction`) raises, in its own transaction,
 * the version of every (owner, UTC day) the old or the new version of such a resource touches, so:
 * - a reader that read a version and later finds it unchanged knows nothing it derived for that owner-day changed,
 *   whichever instance (or sync pass, saga, migration) wrote since;
 * - a write invalidates only the owner-days it touches (a booking: one practitioner, one or two days).
 * A change longer than {@link MAX_LISTED_DAYS} days (a leave of years) raises the owner's `*` row instead, which
 * every reader of that owner also reads. Rows are never deleted, so a version never repeats.
 */
import { VALUES_PER_IN_LIST, chunk, rowsPerInsert } from './batching.js';
import type { Store, StoreTransaction } from './database.js';
import type { ResourcesTable } from './schema.js';
import { join, q, statementOf } from './sql-text.js';

/** The `day` of the row raised by changes too long to list. */
export const EVERY_DAY = '*';
/** Longest change listed day by day. */
const MAX_LISTED_DAYS = 400;
const DAY_MS = 24 * 60 * 60_000;

/** One owner-day: `owner` is `Practitioner/{id}` or `Schedule/{id}`, `day` a UTC date or {@link EVERY_DAY}. */
export interface AvailabilityKey {
  owner: string;
  day: string;
}

/** The availability owner of an Appointment or stored Slot row; undefined for rows free time does not read. */
function ownerOf(row: Pick<ResourcesTable, 'resource_type' | 'ref_practitioner' | 'ref_schedule'>) {
  if (row.resource_type === 'Appointment' && row.ref_practitioner)
    return `Practitioner/${row.ref_practitioner}`;
  if (row.resource_type === 'Slot' && row.ref_schedule) return `Schedule/${row.ref_schedule}`;
  return undefined;
}

/**
 * The owner-days a stored version of a resource touches: for an Appointment or Slot with a period, every UTC day
 * its period meets (its start day when it has no length).
 */
export function availabilityKeysOf(
  row: Pick<
    ResourcesTable,
    'resource_type' | 'ref_practitioner' | 'ref_schedule' | 'period_start' | 'period_end'
  >,
): AvailabilityKey[] {
  const owner = ownerOf(row);
  if (!owner || !row.period_start) return [];
  const start = Date.parse(row.period_start);
  const end = row.period_end ? Date.parse(row.period_end) : start;
  if (Number.isNaN(start)) return [];
  const last = Number.isNaN(end) || end <= start ? start : end - 1;
  const days = utcDaysBetween(start, last + 1);
  if (days.length > MAX_LISTED_DAYS) return [{ owner, day: EVERY_DAY }];
  return days.map((day) => ({ owner, day }));
}

/**
 * The UTC dates (`YYYY-MM-DD`) that `[from, to)` (epoch ms) meets, in order; at most {@link MAX_LISTED_DAYS} + 1.
 */
export function utcDaysBetween(from: number, to: number): string[] {
  const days: string[] = [];
  for (let day = Math.floor(from / DAY_MS) * DAY_MS; day < to; day += DAY_MS) {
    days.push(utcDateOf(day));
    if (days.length > MAX_LISTED_DAYS) break;
  }
  return days;
}

/** `YYYY-MM-DD` of a UTC midnight (ms), remembered: every Slot search lists the same few days many times. */
const utcDates = new Map<number, string>();
function utcDateOf(midnight: number): string {
  let date = utcDates.get(midnight);
  if (date === undefined) {
    date = new Date(midnight).toISOString().slice(0, 10);
    if (utcDates.size >= 10_000) utcDates.clear();
    utcDates.set(midnight, date);
  }
  return date;
}

/**
 * Raises the version of each owner-day, inside the caller's write transaction (the resource write that changed
 * them, so the raise and the change commit together).
 *
 * @see DESIGN.md section 4
 */
export async function raiseAvailabilityVersions(
  trx: StoreTransaction,
  tenantId: string,
  keys: Iterable<AvailabilityKey>,
): Promise<void> {
  const unique = new Map<string, AvailabilityKey>();
  for (const key of keys) unique.set(`${key.owner} ${key.day}`, key);
  if (unique.size === 0) return;
  const rows = [...unique.values()].map((k) => ({
    tenant_id: tenantId,
    owner: k.owner,
    day: k.day,
    version: 1,
  }));
  for (const part of chunk(rows, rowsPerInsert(4))) {
    await trx
      .insertInto('availability_versions')
      .values(part)
      .onConflict((oc) =>
        oc
          .columns(['tenant_id', 'owner', 'day'])
          .doUpdateSet((eb) => ({ version: eb(eb.ref('availability_versions.version'), '+', 1) })),
      )
      .execute();
  }
}

/**
 * The current versions of these owners on these days (and on {@link EVERY_DAY}), keyed `owner day`; an owner-day
 * never changed is absent (version 0). One index range per owner.
 *
 * @see DESIGN.md section 4
 */
export async function availabilityVersions(
  store: Store,
  tenantId: string,
  owners: readonly string[],
  days: readonly string[],
): Promise<Map<string, number>> {
  const versions = new Map<string, number>();
  const wanted = [...new Set([...days, EVERY_DAY])];
  const ownerList = [...new Set(owners)];
  if (ownerList.length === 0) return versions;
  const perChunk = Math.max(1, Math.floor(VALUES_PER_IN_LIST / (wanted.length + 1)));
  for (const part of chunk(ownerList, perChunk)) {
    // Raw SQL: asked by every Slot search; kysely's builder cost more than the index lookup.
    // Kept between writes of the table: asked by every Slot search.
    const rows = await store.readKept<{ owner: string; day: string; version: number | string }>(
      statementOf(
        q`select owner, day, version
      from availability_versions where tenant_id = ${tenantId}
      and owner in (${join(part)}) and day in (${join(wanted)})`,
        store.dialect,
      ),
      ['availability_versions'],
    );
    for (const row of rows) versions.set(`${row.owner} ${row.day}`, Number(row.version));
  }
  return versions;
}
