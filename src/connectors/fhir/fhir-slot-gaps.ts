/**
 * Bookable time from an upstream that publishes Slots (issue 12 item 3). Switchboard's slot calculator works from
 * working hours minus busy time; a Slot-publishing upstream instead says where bookable time is. So its Schedules
 * get the whole week as working hours (fhir-mapping.ts) and every stretch of a local day that no open upstream Slot
 * covers becomes busy time: a `busy-unavailable` Slot, stored and served like a block.
 *
 * Decisions:
 * - **Open** means `free`, `busy` or `busy-tentative`: a `busy` Slot is bookable time someone holds, and whether
 *   it is taken is decided by the appointments Switchboard syncs, not by the Slot's status. That is what absorbs an
 *   upstream whose cancel leaves the Slot `busy` (athenaPractice): the time is freed when the appointment is.
 * - Gaps are cut per whole local day of the schedule's zone, so the same day gives the same gaps (and ids) whether
 *   a hot or a warm window asked, and a day with no open Slot at all (weekend, holiday) is one closed gap.
 */
import type { Schedule, Slot } from '@medplum/fhirtypes';
import { addLocalDays, instantToOffsetDateTime, startOfLocalDay } from '../../wall-time.js';
import type { TimeWindow, UpstreamRecord } from '../connector.js';
import { upstreamRefOf } from './fhir-mapping.js';

export interface OpenInterval {
  start: number;
  end: number;
}

export interface SlotGap {
  scheduleUpstreamId: string;
  /** Epoch ms, half-open. */
  start: number;
  end: number;
}

const OPEN_STATUSES = new Set(['free', 'busy', 'busy-tentative']);
export const isOpenSlotStatus = (status: string): boolean => OPEN_STATUSES.has(status);

/** The local days (as `[start, end)` instants) that overlap `[from, to)` in `zone`. */
export function localDaysCovering(from: Date, to: Date, zone: string): Array<{ start: Date; end: Date }> {
  const days: Array<{ start: Date; end: Date }> = [];
  for (let day = startOfLocalDay(from, zone); day < to; day = addLocalDays(day, zone, 1)) {
    days.push({ start: day, end: addLocalDays(day, zone, 1) });
  }
  return days;
}

/** The stretches of each local day no open interval covers. `open` need not be sorted or disjoint. */
export function gapsOfDays(
  scheduleUpstreamId: string,
  days: ReadonlyArray<{ start: Date; end: Date }>,
  open: readonly OpenInterval[],
): SlotGap[] {
  const sorted = [...open].sort((a, b) => a.start - b.start);
  const gaps: SlotGap[] = [];
  for (const day of days) {
    let cursor = day.start.getTime();
    const end = day.end.getTime();
    for (const interval of sorted) {
      if (interval.end <= cursor || interval.start >= end) continue;
      if (interval.start > cursor) gaps.push({ scheduleUpstreamId, start: cursor, end: interval.start });
      cursor = Math.max(cursor, interval.end);
      if (cursor >= end) break;
    }
    if (cursor < end) gaps.push({ scheduleUpstreamId, start: cursor, end });
  }
  return gaps;
}

/** `[from, to)` cut into consecutive searches of at most `maxDays` × 24 h (elapsed, so a DST day never overflows). */
export function searchChunks(from: Date, to: Date, maxDays: number): Array<{ from: Date; to: Date }> {
  const step = maxDays * 86_400_000;
  const chunks: Array<{ from: Date; to: Date }> = [];
  for (let at = from.getTime(); at < to.getTime(); at += step) {
    chunks.push({ from: new Date(at), to: new Date(Math.min(at + step, to.getTime())) });
  }
  return chunks;
}

/**
 * The gaps of each schedule over `days`, as `busy-unavailable` Slot records, keeping those that overlap `window`.
 * A gap's upstream id names its schedule and instants, so the same gap keeps its FHIR id from one sync to the next.
 */
export function slotGapRecords(
  schedules: readonly Schedule[],
  days: ReadonlyArray<{ start: Date; end: Date }>,
  slots: readonly Slot[],
  window: TimeWindow,
  zone: string,
): UpstreamRecord<Slot>[] {
  return schedules.flatMap((schedule) => {
    const id = schedule.id ?? '';
    const open = slots
      .filter((s) => isOpenSlotStatus(s.status) && upstreamRefOf(s.schedule.reference)?.upstreamId === id)
      .map((s) => ({ start: Date.parse(s.start), end: Date.parse(s.end) }));
    return gapsOfDays(id, days, open)
      .filter((gap) => gap.start < window.to.getTime() && gap.end > window.from.getTime())
      .map((gap): UpstreamRecord<Slot> => {
        const start = new Date(gap.start);
        const end = new Date(gap.end);
        const upstreamId = `gap/${id}/${start.toISOString()}/${end.toISOString()}`;
        return {
          resourceType: 'Slot',
          upstreamId,
          references: [{ resourceType: 'Schedule', upstreamId: id }],
          toFhir: (resolve) => ({
            resourceType: 'Slot',
            id: resolve('Slot', upstreamId),
            schedule: { reference: `Schedule/${resolve('Schedule', id)}` },
            status: 'busy-unavailable',
            start: instantToOffsetDateTime(start, zone),
            end: instantToOffsetDateTime(end, zone),
            comment: 'No bookable time published by the records system',
          }),
        };
      });
  });
}
