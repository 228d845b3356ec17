/**
 * The demo practice's bookings (DESIGN.md section 2): a year of history and about 60 % of the next 30 days.
 *
 * Every booking respects what the records system's own rules would: only inside the provider's weekly template
 * windows, never in a block (holidays, surgery, vacation, extended lunch), never overlapping the provider's other
 * bookings, only appointment types the provider and the window allow, on a 15-minute grid. The generator walks
 * practice-local calendar dates and clock minutes — never instants — so DST days keep their wall times.
 */
import {
  dayNumber,
  dateOfDayNumber,
  isoWeekday,
  minutesToClock,
  clockToMinutes,
  wallToSeconds,
} from './demo-calendar.js';
import type { DemoPatientDraft } from './demo-patients.js';
import type { SeededRandom } from './seeded-random.js';
import { randomDaytimeSecond, timestampWall } from './demo-timestamps.js';
import type {
  SimAppointment,
  SimAppointmentStatus,
  SimAppointmentType,
  SimBlock,
  SimProvider,
  SimTemplate,
} from './sim-types.js';

const DAY = 86_400;
const GRID_MINUTES = 15;
const CELLS_PER_DAY = (24 * 60) / GRID_MINUTES;

/**
 * Share of bookable time taken (cancelled bookings included) before per-day jitter. A few future bookings are
 * cancelled, which leaves about 60 % of the next 30 days booked.
 */
const OCCUPANCY = 0.625;
const DAILY_JITTER = 0.15;
/** A window that explicitly lists the new-patient type is where new patients are meant to go. */
const DEDICATED_NEW_PATIENT_BOOST = 4;
const ANNUAL_INTERVAL_DAYS = 330;
const NOTE_RATE = 0.55;

/** What the generator needs to know about an appointment type beyond its wire shape. */
export interface DemoTypeRule {
  type: SimAppointmentType;
  weight: number;
  leadDays: [number, number];
  notes: string[];
}

export interface DemoScheduleInput {
  zone: string;
  /** First and last calendar date that get bookings. */
  firstDate: string;
  lastDate: string;
  /** The sim's `now`, as wall-clock seconds in the practice zone. */
  nowSec: number;
  providers: SimProvider[];
  types: DemoTypeRule[];
  templates: SimTemplate[];
  blocks: SimBlock[];
  /** New patients' first bookings set their `createdSec`. */
  patients: DemoPatientDraft[];
  /** Which provider each new patient asks for (relative weights by provider id). */
  newPatientShare: Map<number, number>;
  cancelReasons: string[];
}

interface DayBlock {
  providerId: number | null;
  locationId: number | null;
  /** Minutes after midnight, `[from, to)`. */
  from: number;
  to: number;
}

interface Segment {
  /** Grid cells `[from, to)` free of blocks. */
  from: number;
  to: number;
  locationId: number;
  allowed: Set<number>;
  dedicatedNewPatient: boolean;
}

/** Blocks cut into per-day pieces, keyed by day number, so each provider-day looks up only its own. */
function indexBlocks(blocks: SimBlock[]): Map<number, DayBlock[]> {
  const index = new Map<number, DayBlock[]>();
  for (const b of blocks) {
    const s = wallToSeconds(b.start);
    const e = wallToSeconds(b.end);
    for (let day = Math.floor(s / DAY); day * DAY < e; day++) {
      const from = Math.max(s, day * DAY) - day * DAY;
      const to = Math.min(e, (day + 1) * DAY) - day * DAY;
      if (to <= from) continue;
      const list = index.get(day) ?? [];
      list.push({ providerId: b.providerId, locationId: b.locationId, from: from / 60, to: to / 60 });
      index.set(day, list);
    }
  }
  return index;
}

/** A weighted pool that grows as new patients become established. */
class PatientPool {
  private readonly members: number[] = [];
  private readonly cumulative: number[] = [];
  private total = 0;

  add(index: number, weight: number): void {
    this.total += weight;
    this.members.push(index);
    this.cumulative.push(this.total);
  }

  pick(rng: SeededRandom): number | undefined {
    if (this.members.length === 0) return undefined;
    const r = rng.next() * this.total;
    let lo = 0;
    let hi = this.cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.cumulative[mid] ?? 0) > r) hi = mid;
      else lo = mid + 1;
    }
    return this.members[lo];
  }
}

/** New patients waiting for a first visit with one provider, in order of arrival. */
class NewPatientQueue {
  private head = 0;
  constructor(private readonly waiting: { index: number; arrivalDay: number }[]) {}

  hasWaiting(day: number): boolean {
    const next = this.waiting[this.head];
    return next !== undefined && next.arrivalDay <= day;
  }

  take(day: number): number | undefined {
    if (!this.hasWaiting(day)) return undefined;
    const next = this.waiting[this.head++];
    return next?.index;
  }
}

/**
 * Bookings for every date in `[firstDate, lastDate]`, ids in order of start time. `patientId` is still the index into
 * `input.patients`: patient ids are handed out afterwards, in registration order, and the caller maps them.
 */
export function generateAppointments(rng: SeededRandom, input: DemoScheduleInput): SimAppointment[] {
  const { patients } = input;
  const blockIndex = indexBlocks(input.blocks);
  const typeById = new Map(input.types.map((t) => [t.type.id, t]));
  const newPatientTypeIds = new Set(input.types.filter((t) => t.type.newPatientOnly).map((t) => t.type.id));

  const templatesByDay = new Map<string, SimTemplate[]>();
  for (const t of input.templates) {
    const key = `${t.providerId}:${t.weekday}`;
    const list = templatesByDay.get(key) ?? [];
    list.push(t);
    templatesByDay.set(key, list);
  }
  for (const list of templatesByDay.values())
    list.sort((a, b) => clockToMinutes(a.start) - clockToMinutes(b.start));

  const pool = new PatientPool();
  const queueEntries = new Map<number, { index: number; arrivalDay: number }[]>();
  const shareIds = [...input.newPatientShare.keys()];
  const shareWeights = shareIds.map((id) => input.newPatientShare.get(id) ?? 0);
  patients.forEach((p, index) => {
    if (p.kind === 'established') {
      pool.add(index, p.visitWeight);
      return;
    }
    const providerId = shareIds[rng.weightedIndex(shareWeights)] ?? input.providers[0]?.id ?? 0;
    const list = queueEntries.get(providerId) ?? [];
    list.push({ index, arrivalDay: p.arrivalDay });
    queueEntries.set(providerId, list);
  });
  const queues = new Map<number, NewPatientQueue>();
  for (const provider of input.providers) {
    const list = (queueEntries.get(provider.id) ?? []).sort(
      (a, b) => a.arrivalDay - b.arrivalDay || a.index - b.index,
    );
    queues.set(provider.id, new NewPatientQueue(list));
  }

  const lastVisitDay = new Int32Array(patients.length).fill(-1_000_000);
  const lastAnnualDay = new Int32Array(patients.length).fill(-1_000_000);
  const graduations: { day: number; index: number }[] = [];
  let graduated = 0;

  const pickEstablished = (day: number, type: DemoTypeRule): number | undefined => {
    const annual = type.type.code === 'annual-physical';
    for (let attempt = 0; attempt < 8; attempt++) {
      const p = pool.pick(rng);
      if (p === undefined) return undefined;
      if (lastVisitDay[p] === day) continue;
      if (annual && (lastAnnualDay[p] ?? 0) > day - ANNUAL_INTERVAL_DAYS) continue;
      return p;
    }
    return undefined;
  };

  const out: Omit<SimAppointment, 'id'>[] = [];
  const startSecs: number[] = [];
  const firstDay = dayNumber(input.firstDate);
  const lastDay = dayNumber(input.lastDate);

  for (let day = firstDay; day <= lastDay; day++) {
    while (graduated < graduations.length && (graduations[graduated]?.day ?? Infinity) <= day) {
      const g = graduations[graduated++];
      if (g) pool.add(g.index, patients[g.index]?.visitWeight ?? 1);
    }
    const date = dateOfDayNumber(day);
    const weekday = isoWeekday(date);
    const dayBlocks = blockIndex.get(day) ?? [];

    for (const provider of input.providers) {
      const templates = templatesByDay.get(`${provider.id}:${weekday}`);
      if (!templates) continue;
      const queue = queues.get(provider.id);
      const segments: Segment[] = [];
      for (const t of templates) {
        const allowedIds = (t.appointmentTypeIds ?? input.types.map((x) => x.type.id)).filter((id) =>
          typeById.get(id)?.type.providerIds.includes(provider.id),
        );
        const allowed = new Set(allowedIds);
        const dedicatedNewPatient = (t.appointmentTypeIds ?? []).some((id) => newPatientTypeIds.has(id));
        const applicable = dayBlocks.filter(
          (b) =>
            (b.providerId === null || b.providerId === provider.id) &&
            (b.locationId === null || b.locationId === t.locationId),
        );
        let runStart = -1;
        const endCell = clockToMinutes(t.end) / GRID_MINUTES;
        for (let c = clockToMinutes(t.start) / GRID_MINUTES; c <= endCell; c++) {
          const free =
            c < endCell &&
            !applicable.some((b) => b.from < (c + 1) * GRID_MINUTES && b.to > c * GRID_MINUTES);
          if (free && runStart < 0) runStart = c;
          if (!free && runStart >= 0) {
            segments.push({ from: runStart, to: c, locationId: t.locationId, allowed, dedicatedNewPatient });
            runStart = -1;
          }
        }
      }
      if (segments.length === 0) continue;

      const freeMinutes = segments.reduce((sum, s) => sum + (s.to - s.from) * GRID_MINUTES, 0);
      const share = Math.min(0.95, Math.max(0, OCCUPANCY + (rng.next() * 2 - 1) * DAILY_JITTER));
      const target = freeMinutes * share;
      const occupied = new Uint8Array(CELLS_PER_DAY);
      const candidateTypes = input.types.filter((t) => segments.some((s) => s.allowed.has(t.type.id)));
      const dedicated = new Set(
        candidateTypes
          .filter((t) => segments.some((s) => s.dedicatedNewPatient && s.allowed.has(t.type.id)))
          .map((t) => t.type.id),
      );
      const exhausted = new Set<number>();
      let booked = 0;

      while (booked < target) {
        const weights = candidateTypes.map((t) => {
          if (exhausted.has(t.type.id)) return 0;
          if (!t.type.newPatientOnly) return t.weight;
          if (!queue?.hasWaiting(day)) return 0;
          return t.weight * (dedicated.has(t.type.id) ? DEDICATED_NEW_PATIENT_BOOST : 1);
        });
        if (!weights.some((w) => w > 0)) break;
        const rule = candidateTypes[rng.weightedIndex(weights)];
        if (!rule) break;
        const duration = rule.type.durationMinutes;
        // Stop rather than overshoot the day's target by more than half a visit.
        if (booked + duration > target + duration / 2) break;

        const cells = Math.ceil(duration / GRID_MINUTES);
        const starts: { cell: number; locationId: number }[] = [];
        for (const s of segments) {
          if (!s.allowed.has(rule.type.id)) continue;
          for (let c = s.from; c + cells <= s.to; c++) {
            let fits = true;
            for (let k = 0; k < cells; k++) if (occupied[c + k]) fits = false;
            if (fits) starts.push({ cell: c, locationId: s.locationId });
          }
        }
        if (starts.length === 0) {
          exhausted.add(rule.type.id);
          continue;
        }
        const patientIndex = rule.type.newPatientOnly ? queue?.take(day) : pickEstablished(day, rule);
        if (patientIndex === undefined) {
          exhausted.add(rule.type.id);
          continue;
        }
        const slot = rng.pick(starts);
        for (let k = 0; k < cells; k++) occupied[slot.cell + k] = 1;
        booked += duration;
        lastVisitDay[patientIndex] = day;
        if (rule.type.code === 'annual-physical') lastAnnualDay[patientIndex] = day;

        const startMinutes = slot.cell * GRID_MINUTES;
        const start = `${date}T${minutesToClock(startMinutes)}`;
        const startSec = day * DAY + startMinutes * 60;
        const patient = patients[patientIndex];
        if (!patient) continue;
        const booking = bookingRecord(rng, input, rule, patient, startSec, day);
        if (rule.type.newPatientOnly && booking.status === 'completed') {
          graduations.push({ day: day + 1, index: patientIndex });
        }
        out.push({
          patientId: patientIndex,
          providerId: provider.id,
          locationId: slot.locationId,
          appointmentTypeId: rule.type.id,
          start,
          durationMinutes: duration,
          status: booking.status,
          notes: rng.chance(NOTE_RATE) && rule.notes.length > 0 ? rng.pick(rule.notes) : null,
          externalRef: null,
          ...(booking.status === 'cancelled' ? { cancelReason: rng.pick(input.cancelReasons) } : {}),
          createdAt: timestampWall(booking.createdSec, input.zone),
          modifiedAt: timestampWall(booking.modifiedSec, input.zone),
        });
        startSecs.push(startSec);
      }
    }
  }

  const order = out.map((_, i) => i);
  order.sort(
    (a, b) =>
      (startSecs[a] ?? 0) - (startSecs[b] ?? 0) || (out[a]?.providerId ?? 0) - (out[b]?.providerId ?? 0),
  );
  return order.map((i, position) => ({ id: position + 1, ...(out[i] as Omit<SimAppointment, 'id'>) }));
}

/**
 * Status and bookkeeping times of one booking. `createdAt` precedes the start and `now`; a new patient registers
 * minutes before their first booking; `modifiedAt` lies between `createdAt` and `now`.
 */
function bookingRecord(
  rng: SeededRandom,
  input: DemoScheduleInput,
  rule: DemoTypeRule,
  patient: DemoPatientDraft,
  startSec: number,
  day: number,
): { status: SimAppointmentStatus; createdSec: number; modifiedSec: number } {
  const { nowSec } = input;
  const endSec = startSec + rule.type.durationMinutes * 60;
  const lead = rng.int(rule.leadDays[0], rule.leadDays[1]);
  let createdSec = randomDaytimeSecond(rng, (day - lead) * DAY + 7 * 3600, (day - lead) * DAY + 19 * 3600);
  if (createdSec > startSec - 15 * 60) createdSec = startSec - rng.int(15, 120) * 60;
  if (createdSec > nowSec - 60) createdSec = randomDaytimeSecond(rng, nowSec - 14 * DAY, nowSec - 60);
  if (patient.createdSec === null) {
    patient.createdSec = createdSec - rng.int(120, 900);
  } else {
    createdSec = Math.max(createdSec, patient.createdSec + 60);
  }

  let status: SimAppointmentStatus;
  let modifiedSec: number;
  if (endSec <= nowSec) {
    const r = rng.next();
    if (r < 0.08) {
      status = 'cancelled';
      modifiedSec = randomDaytimeSecond(rng, createdSec, startSec);
    } else if (r < 0.14) {
      status = 'no-show';
      modifiedSec = startSec + rng.int(15, 60) * 60;
    } else {
      status = 'completed';
      modifiedSec = endSec + rng.int(5, 90) * 60;
    }
  } else if (startSec <= nowSec) {
    status = 'checked-in';
    modifiedSec = startSec - rng.int(2, 15) * 60;
  } else {
    const daysAhead = (startSec - nowSec) / DAY;
    const confirmRate = daysAhead <= 2 ? 0.7 : daysAhead <= 7 ? 0.4 : 0.1;
    const r = rng.next();
    if (r < 0.04) {
      status = 'cancelled';
      modifiedSec = randomDaytimeSecond(rng, createdSec, nowSec);
    } else if (r < 0.04 + confirmRate) {
      status = 'confirmed';
      modifiedSec = randomDaytimeSecond(rng, Math.max(createdSec, startSec - 3 * DAY), nowSec);
    } else {
      status = 'scheduled';
      modifiedSec = rng.chance(0.7) ? createdSec : randomDaytimeSecond(rng, createdSec, nowSec);
    }
  }
  modifiedSec = Math.min(nowSec, Math.max(createdSec, modifiedSec));
  return { status, createdSec, modifiedSec };
}
