/**
 * Deterministic ids of computed slots (DESIGN.md section 4: "Slot ids are deterministic (schedule + start +
 * duration), so an id from a search can be booked later"): `{scheduleFhirId}.{UTC yyyyMMddHHmm}.{minutes}`, e.g.
 * `3f0c…e9.202611241900.30`. UTC, not wall time, so the id names one instant even in the repeated autumn hour; the
 * FHIR id alphabet (`[A-Za-z0-9\-.]{1,64}`) allows it, and with the store's 36-character schedule ids it stays
 * within 64 characters.
 */

const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;
const SLOT_ID = /^([A-Za-z0-9\-.]+)\.(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})\.([1-9]\d{0,3})$/;

/** What a slot id says. */
export interface ParsedSlotId {
  scheduleId: string;
  start: Date;
  minutes: number;
}

/**
 * The id of the slot of `minutes` starting at `start` on schedule `scheduleId`.
 * @throws RangeError when the start is not a whole minute, the length not 1–9999 minutes, or the id would not be a
 * legal FHIR id (a schedule id longer than 46 characters).
 */
export function formatSlotId(scheduleId: string, start: Date, minutes: number): string {
  const ms = start.getTime();
  if (!Number.isFinite(ms) || ms % 60_000 !== 0)
    throw new RangeError(`slot start must be a whole minute: ${String(start)}`);
  if (!Number.isInteger(minutes) || minutes < 1 || minutes > 9999)
    throw new RangeError(`slot length must be 1–9999 minutes: ${minutes}`);
  const iso = start.toISOString();
  const stamp = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}`;
  const id = `${scheduleId}.${stamp}.${minutes}`;
  if (!FHIR_ID.test(id) || !FHIR_ID.test(scheduleId))
    throw new RangeError(`schedule id gives no legal slot id: ${scheduleId}`);
  return id;
}

/** The schedule, start and length a slot id names; undefined for anything {@link formatSlotId} cannot produce. */
export function parseSlotId(id: string): ParsedSlotId | undefined {
  if (!FHIR_ID.test(id)) return undefined;
  const m = SLOT_ID.exec(id);
  if (!m) return undefined;
  const [, scheduleId, year, month, day, hour, minute, minutes] = m;
  const start = new Date(
    Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute)),
  );
  const parsed = { scheduleId: scheduleId ?? '', start, minutes: Number(minutes) };
  // Rejects impossible stamps (month 13, 25:00) that Date.UTC would silently roll over.
  try {
    return formatSlotId(parsed.scheduleId, start, parsed.minutes) === id ? parsed : undefined;
  } catch {
    return undefined;
  }
}
