/**
 * The demo practice — Riverside Family Medicine — as the simulated records system holds it
 * (DESIGN.md section 2, "The demo practice"). Static facts come from `fixtures/riverside/`; everything dated is
 * generated relative to the sim's `today`, deterministically: the same options always give a deep-equal firm.
 */
import { addDays, addYears, clockToMinutes, dayNumber, isoWeekday, wallToSeconds } from './demo-calendar.js';
import { generateAppointments } from './demo-appointments.js';
import type { DemoTypeRule } from './demo-appointments.js';
import { loadDemoFixtures } from './demo-fixtures.js';
import type { DemoFixtures } from './demo-fixtures.js';
import { usFederalHolidaysBetween } from './demo-holidays.js';
import { generatePatientDrafts } from './demo-patients.js';
import { createSeededRandom, hashString } from './seeded-random.js';
import { randomDaytimeSecond, timestampWall } from './demo-timestamps.js';
import type {
  SimAppointmentType,
  SimBlock,
  SimFirmData,
  SimLocation,
  SimPatient,
  SimProvider,
  SimTemplate,
} from './sim-types.js';
import { instantToWallTime, wallTimeToInstant } from '../wall-time.js';

export interface DemoPracticeOptions {
  /** The sim's today, practice-local `YYYY-MM-DD`; every generated date is relative to it. */
  today: string;
  /** The sim's clock; no timestamp is later. Defaults to 07:00 practice time on `today` (before opening). */
  now?: Date;
  /** Different seeds give different patients and bookings under the same rules. Default 1. */
  seed?: number;
  /** Practice name (default "Riverside Family Medicine"); also part of the seed. */
  name?: string;
}

/** How far the generated calendar reaches. */
export const DEMO_HISTORY_YEARS = 1;
export const DEMO_BOOKED_DAYS = 30;
/** Holidays and recurring blocks are published this far ahead, so availability searches past the booked window see them. */
export const DEMO_BLOCK_DAYS_AHEAD = 365;
export const DEMO_PATIENTS = { established: 300, new: 200 } as const;

const DATE = /^\d{4}-\d{2}-\d{2}$/;
/** Established patients registered at least this long before the history begins (bookings reach 90 days back). */
const REGISTERED_BEFORE_HISTORY_DAYS = 120;
const NEW_PATIENT_IDLE_DAYS = 60;

/** Independent random streams per part, so tuning one part leaves the others unchanged. */
function stream(seed: number, name: string, part: string): ReturnType<typeof createSeededRandom> {
  return createSeededRandom(hashString(`${seed}\u0000${name}\u0000${part}`));
}

/** `Riverside Family Medicine` → `RFM`, the MRN prefix. */
function mrnPrefix(name: string): string {
  const initials = name
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .split(/[^A-Za-z0-9]+/)
    .filter((w) => w.length > 0)
    .map((w) => w[0]?.toUpperCase() ?? '')
    .join('');
  return initials.length > 0 ? initials : 'MRN';
}

function wholeDay(date: string): { start: string; end: string } {
  return { start: `${date}T00:00`, end: `${addDays(date, 1)}T00:00` };
}

/**
 * The demo practice's weekly working hours and appointment types alone, with the ids {@link buildDemoPractice}
 * gives them (they depend on the fixtures only, not on today): what a FHIR tenant over the FHIR simulator is
 * configured with, since FHIR has no resource for weekly hours (issue 12).
 */
export function demoPracticeSchedule(): Pick<SimFirmData, 'templates' | 'appointmentTypes'> {
  const fixtures = loadDemoFixtures();
  const fx = fixtures.practice;
  const providerId = new Map(fx.providers.map((p, i) => [p.key, i + 1]));
  const locationId = new Map(fx.locations.map((l, i) => [l.key, i + 1]));
  const typeId = new Map(fx.appointmentTypes.map((t, i) => [t.code, i + 1]));
  return {
    templates: buildTemplates(fixtures, providerId, locationId, typeId),
    appointmentTypes: fx.appointmentTypes.map((t, i) => ({
      id: i + 1,
      code: t.code,
      name: t.name,
      durationMinutes: t.durationMinutes,
      providerIds:
        t.providers === 'all'
          ? fx.providers.map((_, j) => j + 1)
          : t.providers.map((key) => providerId.get(key) ?? 0).sort((a, b) => a - b),
      newPatientOnly: t.newPatientOnly,
    })),
  };
}

/** Builds one firm's complete data set; see DESIGN.md section 2 for what the demo practice must contain. */
export function buildDemoPractice(options: DemoPracticeOptions): SimFirmData {
  const { today } = options;
  if (!DATE.test(today)) throw new RangeError(`today must be YYYY-MM-DD, got ${JSON.stringify(today)}`);
  dayNumber(today); // throws on an impossible date such as 2026-02-30
  const fixtures = loadDemoFixtures();
  const fx = fixtures.practice;
  const zone = fx.timezone;
  const name = options.name ?? fx.name;
  const seed = options.seed ?? 1;
  const now = options.now ?? wallTimeToInstant(`${today}T07:00`, zone);
  const nowSec = wallToSeconds(instantToWallTime(now, zone, 'second'));

  const historyStart = addYears(today, -DEMO_HISTORY_YEARS);
  const bookedEnd = addDays(today, DEMO_BOOKED_DAYS - 1);
  const blocksEnd = addDays(today, DEMO_BLOCK_DAYS_AHEAD);

  const locations: SimLocation[] = fx.locations.map((l, i) => ({
    id: i + 1,
    name: l.name.replace('{practice}', name),
    address: { ...l.address },
    phone: l.phone,
    timezone: zone,
  }));
  const locationId = new Map(fx.locations.map((l, i) => [l.key, i + 1]));
  const providers: SimProvider[] = fx.providers.map((p, i) => ({
    id: i + 1,
    firstName: p.firstName,
    lastName: p.lastName,
    npi: p.npi,
    specialty: p.specialty,
    active: true,
  }));
  const providerId = new Map(fx.providers.map((p, i) => [p.key, i + 1]));
  const idOfProvider = (key: string): number => {
    const id = providerId.get(key);
    if (id === undefined) throw new Error(`demo fixture: unknown provider ${key}`);
    return id;
  };

  const appointmentTypes: SimAppointmentType[] = fx.appointmentTypes.map((t, i) => ({
    id: i + 1,
    code: t.code,
    name: t.name,
    durationMinutes: t.durationMinutes,
    providerIds:
      t.providers === 'all'
        ? providers.map((p) => p.id)
        : t.providers.map(idOfProvider).sort((a, b) => a - b),
    newPatientOnly: t.newPatientOnly,
  }));
  const typeId = new Map(fx.appointmentTypes.map((t, i) => [t.code, i + 1]));

  const templates = buildTemplates(fixtures, providerId, locationId, typeId);
  const blocks = buildBlocks(fixtures, {
    rng: stream(seed, name, 'blocks'),
    today,
    from: historyStart,
    to: blocksEnd,
    templates,
    idOfProvider,
  });

  const drafts = generatePatientDrafts(stream(seed, name, 'patients'), fixtures.names, {
    today,
    registeredBefore: addDays(historyStart, -REGISTERED_BEFORE_HISTORY_DAYS),
    firstDay: historyStart,
    lastDay: bookedEnd,
    counts: DEMO_PATIENTS,
  });

  const typeRules: DemoTypeRule[] = appointmentTypes.map((type, i) => {
    const f = fx.appointmentTypes[i];
    return {
      type,
      weight: f?.weight ?? 1,
      leadDays: f?.leadDays ?? [0, 14],
      notes: fixtures.visitNotes.notes[type.code] ?? [],
    };
  });
  const scheduleRng = stream(seed, name, 'appointments');
  const rawAppointments = generateAppointments(scheduleRng, {
    zone,
    firstDate: historyStart,
    lastDate: bookedEnd,
    nowSec,
    providers,
    types: typeRules,
    templates,
    blocks,
    patients: drafts,
    newPatientShare: new Map(Object.entries(fx.newPatientShare).map(([key, w]) => [idOfProvider(key), w])),
    cancelReasons: fixtures.visitNotes.cancelReasons,
  });

  // New patients who registered but never booked signed up recently (a portal form, a phone call).
  const patientRng = stream(seed, name, 'patient-timestamps');
  for (const d of drafts) {
    if (d.createdSec === null) {
      d.createdSec = randomDaytimeSecond(patientRng, nowSec - NEW_PATIENT_IDLE_DAYS * 86_400, nowSec - 60);
    }
  }
  // Ids and MRNs follow registration order, as a records system hands them out.
  const order = drafts
    .map((_, i) => i)
    .sort((a, b) => (drafts[a]?.createdSec ?? 0) - (drafts[b]?.createdSec ?? 0) || a - b);
  const idOfDraft = new Int32Array(drafts.length);
  const prefix = mrnPrefix(name);
  const patients: SimPatient[] = order.map((draftIndex, position) => {
    const d = drafts[draftIndex];
    if (!d || d.createdSec === null) throw new Error('patient draft without registration time');
    const id = position + 1;
    idOfDraft[draftIndex] = id;
    const createdSec = d.createdSec;
    const modifiedSec = patientRng.chance(0.6)
      ? createdSec
      : randomDaytimeSecond(patientRng, createdSec, nowSec);
    return {
      id,
      mrn: `${prefix}-${String(id).padStart(6, '0')}`,
      firstName: d.firstName,
      lastName: d.lastName,
      dob: d.dob,
      gender: d.gender,
      phone: d.phone,
      email: d.email,
      address: d.address,
      createdAt: timestampWall(createdSec, zone),
      modifiedAt: timestampWall(Math.min(nowSec, Math.max(createdSec, modifiedSec)), zone),
    };
  });
  const appointments = rawAppointments.map((a) => ({ ...a, patientId: idOfDraft[a.patientId] ?? 0 }));

  return {
    name,
    timezone: zone,
    providers,
    locations,
    appointmentTypes,
    templates,
    blocks,
    patients,
    appointments,
  };
}

function buildTemplates(
  fixtures: DemoFixtures,
  providerId: Map<string, number>,
  locationId: Map<string, number>,
  typeId: Map<string, number>,
): SimTemplate[] {
  const rows: Omit<SimTemplate, 'id'>[] = [];
  for (const t of fixtures.practice.templates) {
    for (const weekday of t.weekdays) {
      rows.push({
        providerId: providerId.get(t.provider) ?? 0,
        locationId: locationId.get(t.location) ?? 0,
        weekday,
        start: t.start,
        end: t.end,
        ...(t.appointmentTypes
          ? { appointmentTypeIds: t.appointmentTypes.map((c) => typeId.get(c) ?? 0) }
          : {}),
      });
    }
  }
  rows.sort(
    (a, b) =>
      a.providerId - b.providerId ||
      a.weekday - b.weekday ||
      clockToMinutes(a.start) - clockToMinutes(b.start),
  );
  return rows.map((r, i) => ({ id: i + 1, ...r }));
}

function buildBlocks(
  fixtures: DemoFixtures,
  ctx: {
    rng: ReturnType<typeof createSeededRandom>;
    today: string;
    from: string;
    to: string;
    templates: SimTemplate[];
    idOfProvider: (key: string) => number;
  },
): SimBlock[] {
  const fx = fixtures.practice;
  const rows: Omit<SimBlock, 'id'>[] = [];
  const holidays = usFederalHolidaysBetween(ctx.from, ctx.to);
  const holidayDates = new Set(holidays.map((h) => h.date));
  for (const h of holidays)
    rows.push({ providerId: null, locationId: null, ...wholeDay(h.date), reason: h.name });

  for (const weekly of fx.weeklyBlocks) {
    const pid = ctx.idOfProvider(weekly.provider);
    const offset = (weekly.weekday - isoWeekday(ctx.from) + 7) % 7;
    for (let date = addDays(ctx.from, offset); date <= ctx.to; date = addDays(date, 7)) {
      rows.push({
        providerId: pid,
        locationId: null,
        start: `${date}T${weekly.start}`,
        end: `${date}T${weekly.end}`,
        reason: weekly.reason,
      });
    }
  }

  // "Next week" is the calendar week (Monday–Sunday) after the one holding today.
  const nextMonday = addDays(ctx.today, 8 - isoWeekday(ctx.today));
  const vacationProvider = ctx.idOfProvider(fx.vacationNextWeek.provider);
  rows.push({
    providerId: vacationProvider,
    locationId: null,
    start: `${nextMonday}T00:00`,
    end: `${addDays(nextMonday, 7)}T00:00`,
    reason: fx.vacationNextWeek.reason,
  });

  const lunch = fx.extendedLunch;
  const lunchProvider = ctx.idOfProvider(lunch.provider);
  const lunchStart = clockToMinutes(lunch.start);
  const lunchEnd = clockToMinutes(lunch.end);
  const candidates: string[] = [];
  for (let i = 1; i <= lunch.withinDays; i++) {
    const date = addDays(ctx.today, i);
    if (holidayDates.has(date)) continue;
    if (lunchProvider === vacationProvider && date >= nextMonday && date < addDays(nextMonday, 7)) continue;
    const weekday = isoWeekday(date);
    // Only a day on which the lunch extension actually eats into working time.
    const works = ctx.templates.some(
      (t) =>
        t.providerId === lunchProvider &&
        t.weekday === weekday &&
        clockToMinutes(t.start) < lunchEnd &&
        clockToMinutes(t.end) > lunchStart,
    );
    if (works) candidates.push(date);
  }
  if (candidates.length > 0) {
    const date = ctx.rng.pick(candidates);
    rows.push({
      providerId: lunchProvider,
      locationId: null,
      start: `${date}T${lunch.start}`,
      end: `${date}T${lunch.end}`,
      reason: lunch.reason,
    });
  }

  rows.sort(
    (a, b) =>
      (a.start < b.start ? -1 : a.start > b.start ? 1 : 0) || (a.providerId ?? 0) - (b.providerId ?? 0),
  );
  return rows.map((r, i) => ({ id: i + 1, ...r }));
}
