import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { findRepoRoot } from '../../src/sim/demo-fixtures.js';
import { buildDemoPractice } from '../../src/sim/demo-practice.js';
import type { SimAppointment, SimBlock, SimFirmData, SimTemplate } from '../../src/sim/sim-types.js';
import { instantToWallTime, isWallTime, wallTimeToInstant } from '../../src/wall-time.js';

const ZONE = 'America/New_York';
const TODAY = '2026-11-21';

// Independent of the generator's own calendar helpers: luxon in UTC is plain calendar arithmetic (memoised, as
// the checks below look at some 15,000 bookings per firm).
const dayCache = new Map<string, DateTime>();
const day = (date: string): DateTime => {
  let dt = dayCache.get(date);
  if (!dt) {
    dt = DateTime.fromISO(date, { zone: 'UTC' });
    dayCache.set(date, dt);
  }
  return dt;
};
const plusDays = (date: string, days: number): string => day(date).plus({ days }).toISODate() ?? '';
const weekdayOf = (date: string): number => day(date).weekday;
const minutesOf = (clock: string): number => Number(clock.slice(0, 2)) * 60 + Number(clock.slice(3, 5));
const clockOfMinutes = (m: number): string =>
  `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
/** Wall time plus minutes, on the wall clock (a visit ending at 12:00 ends at "12:00" whatever DST does). */
const wallPlus = (wall: string, minutes: number): string => {
  const total = minutesOf(wall.slice(11, 16)) + minutes;
  const date = plusDays(wall.slice(0, 10), Math.floor(total / 1440));
  return `${date}T${clockOfMinutes(total % 1440)}`;
};
const dateOf = (wall: string): string => wall.slice(0, 10);
const clockOf = (wall: string): string => wall.slice(11, 16);
const endOf = (a: SimAppointment): string => wallPlus(a.start, a.durationMinutes);
const isCancelled = (a: SimAppointment): boolean => a.status === 'cancelled';

function nameOf(firm: SimFirmData, lastName: string): number {
  const p = firm.providers.find((x) => x.lastName === lastName);
  if (!p) throw new Error(`no provider ${lastName}`);
  return p.id;
}

function typeId(firm: SimFirmData, code: string): number {
  const t = firm.appointmentTypes.find((x) => x.code === code);
  if (!t) throw new Error(`no type ${code}`);
  return t.id;
}

function blockApplies(b: SimBlock, a: SimAppointment): boolean {
  return (
    (b.providerId === null || b.providerId === a.providerId) &&
    (b.locationId === null || b.locationId === a.locationId)
  );
}

function templateFor(firm: SimFirmData, a: SimAppointment): SimTemplate | undefined {
  const weekday = weekdayOf(dateOf(a.start));
  const from = minutesOf(clockOf(a.start));
  const to = from + a.durationMinutes;
  return firm.templates.find(
    (t) =>
      t.providerId === a.providerId &&
      t.locationId === a.locationId &&
      t.weekday === weekday &&
      minutesOf(t.start) <= from &&
      to <= minutesOf(t.end),
  );
}

function holidayDates(firm: SimFirmData): Set<string> {
  return new Set(
    firm.blocks.filter((b) => b.providerId === null && b.locationId === null).map((b) => dateOf(b.start)),
  );
}

/** Blocks by each calendar date they touch, so checking 15,000 bookings stays quick. */
function blocksByDate(firm: SimFirmData): Map<string, SimBlock[]> {
  const index = new Map<string, SimBlock[]>();
  for (const b of firm.blocks) {
    for (let date = dateOf(b.start); `${date}T00:00` < b.end; date = plusDays(date, 1)) {
      index.set(date, [...(index.get(date) ?? []), b]);
    }
  }
  return index;
}

/** Every rule the records system's own scheduling would enforce; returns the violations found. */
function ruleViolations(firm: SimFirmData): string[] {
  const problems: string[] = [];
  const holidays = holidayDates(firm);
  const blocks = blocksByDate(firm);
  const types = new Map(firm.appointmentTypes.map((t) => [t.id, t]));
  const byProvider = new Map<number, SimAppointment[]>();
  for (const a of firm.appointments) {
    const where = `appointment ${a.id} (${a.start}, provider ${a.providerId})`;
    if (!isWallTime(a.start) || a.start.length !== 16)
      problems.push(`${where}: start is not a minute wall time`);
    if (minutesOf(clockOf(a.start)) % 15 !== 0) problems.push(`${where}: off the 15-minute grid`);
    if (weekdayOf(dateOf(a.start)) > 5) problems.push(`${where}: on a weekend`);
    if (holidays.has(dateOf(a.start))) problems.push(`${where}: on a holiday`);
    const type = types.get(a.appointmentTypeId);
    if (!type) problems.push(`${where}: unknown type`);
    else {
      if (a.durationMinutes !== type.durationMinutes)
        problems.push(`${where}: duration differs from its type`);
      if (!type.providerIds.includes(a.providerId))
        problems.push(`${where}: provider not eligible for ${type.code}`);
    }
    const template = templateFor(firm, a);
    if (!template) problems.push(`${where}: outside the provider's templates`);
    else if (template.appointmentTypeIds && !template.appointmentTypeIds.includes(a.appointmentTypeId)) {
      problems.push(`${where}: type not allowed in template ${template.id}`);
    }
    const end = endOf(a);
    for (const b of blocks.get(dateOf(a.start)) ?? []) {
      if (blockApplies(b, a) && b.start < end && a.start < b.end)
        problems.push(`${where}: inside block ${b.id}`);
    }
    const list = byProvider.get(a.providerId) ?? [];
    list.push(a);
    byProvider.set(a.providerId, list);
  }
  for (const list of byProvider.values()) {
    list.sort((x, y) => (x.start < y.start ? -1 : x.start > y.start ? 1 : 0));
    for (let i = 1; i < list.length; i++) {
      const prev = list[i - 1];
      const cur = list[i];
      if (prev && cur && cur.start < endOf(prev))
        problems.push(`appointments ${prev.id} and ${cur.id} overlap`);
    }
  }
  return problems;
}

/** Minutes of template time not covered by blocks, per provider, over `[from, to]`. */
function bookableMinutes(firm: SimFirmData, from: string, to: string): number {
  const blocks = blocksByDate(firm);
  let total = 0;
  for (let date = from; date <= to; date = plusDays(date, 1)) {
    const weekday = weekdayOf(date);
    for (const t of firm.templates.filter((x) => x.weekday === weekday)) {
      for (let m = minutesOf(t.start); m < minutesOf(t.end); m++) {
        const wall = `${date}T${clockOfMinutes(m)}`;
        const blocked = (blocks.get(date) ?? []).some(
          (b) =>
            (b.providerId === null || b.providerId === t.providerId) &&
            (b.locationId === null || b.locationId === t.locationId) &&
            b.start <= wall &&
            wall < b.end,
        );
        if (!blocked) total++;
      }
    }
  }
  return total;
}

const riverside = buildDemoPractice({ today: TODAY });

describe('the demo practice, reference data', () => {
  it('is Riverside Family Medicine with two New York locations that have addresses and phones', () => {
    expect(riverside.name).toBe('Riverside Family Medicine');
    expect(riverside.timezone).toBe(ZONE);
    expect(riverside.locations).toHaveLength(2);
    for (const l of riverside.locations) {
      expect(l.timezone).toBe(ZONE);
      expect(l.name).toContain('Riverside Family Medicine');
      expect(l.address.line1).not.toBe('');
      expect(l.address.postalCode).toMatch(/^\d{5}$/);
      expect(l.phone).toMatch(/\d{3}.*\d{4}/);
    }
  });

  it('has Drs. Johnson, Martinez, Williams and Chen, active, with Luhn-valid NPIs', () => {
    expect(riverside.providers.map((p) => p.lastName)).toEqual(['Johnson', 'Martinez', 'Williams', 'Chen']);
    for (const p of riverside.providers) {
      expect(p.active).toBe(true);
      expect(p.specialty).not.toBe('');
      expect(p.npi).toMatch(/^\d{10}$/);
      // NPI check digit: Luhn over the 80840 prefix plus the number.
      const digits = `80840${p.npi}`.split('').map(Number).reverse();
      const sum = digits.reduce((acc, d, i) => acc + (i % 2 === 1 ? (d * 2 > 9 ? d * 2 - 9 : d * 2) : d), 0);
      expect(sum % 10).toBe(0);
    }
  });

  it('offers the five appointment types with their durations, procedure consults only for some providers', () => {
    const byCode = Object.fromEntries(riverside.appointmentTypes.map((t) => [t.code, t]));
    expect(byCode['annual-physical']?.durationMinutes).toBe(30);
    expect(byCode['new-patient']?.durationMinutes).toBe(45);
    expect(byCode['follow-up']?.durationMinutes).toBe(15);
    expect(byCode['sick-visit']?.durationMinutes).toBe(20);
    expect(byCode['procedure-consult']?.durationMinutes).toBe(30);
    expect(byCode['new-patient']?.newPatientOnly).toBe(true);
    expect(riverside.appointmentTypes.filter((t) => t.newPatientOnly)).toHaveLength(1);
    const consult = byCode['procedure-consult']?.providerIds ?? [];
    expect(consult.length).toBeGreaterThan(0);
    expect(consult.length).toBeLessThan(riverside.providers.length);
    expect(consult).toEqual([nameOf(riverside, 'Johnson'), nameOf(riverside, 'Chen')]);
  });

  it('has templates only on weekdays, none for Dr. Martinez on Fridays, and Dr. Chen off 12–13', () => {
    expect(new Set(riverside.templates.map((t) => t.id)).size).toBe(riverside.templates.length);
    expect(riverside.templates.every((t) => t.weekday >= 1 && t.weekday <= 5)).toBe(true);
    const martinez = nameOf(riverside, 'Martinez');
    expect(riverside.templates.some((t) => t.providerId === martinez && t.weekday === 5)).toBe(false);
    const chen = riverside.templates.filter((t) => t.providerId === nameOf(riverside, 'Chen'));
    expect(chen.length).toBeGreaterThan(0);
    expect(chen.every((t) => t.end <= '12:00' || t.start >= '13:00')).toBe(true);
  });

  it('allows new-patient visits with Dr. Johnson only in his Tuesday-afternoon window', () => {
    const johnson = nameOf(riverside, 'Johnson');
    const newPatient = typeId(riverside, 'new-patient');
    for (const t of riverside.templates.filter((x) => x.providerId === johnson)) {
      const allowsNew = t.appointmentTypeIds ? t.appointmentTypeIds.includes(newPatient) : true;
      expect(allowsNew).toBe(t.weekday === 2 && t.start >= '12:00');
    }
  });
});

describe('the demo practice, closures', () => {
  it('closes the whole practice on Thanksgiving 2026-11-26', () => {
    const thanksgiving = riverside.blocks.find((b) => b.start === '2026-11-26T00:00');
    expect(thanksgiving).toMatchObject({
      providerId: null,
      locationId: null,
      end: '2026-11-27T00:00',
      reason: 'Thanksgiving Day',
    });
  });

  it('closes on every federal holiday of the generated year, with observed dates for weekend holidays', () => {
    const closed = holidayDates(riverside);
    // 2026-07-04 was a Saturday (observed Friday 07-03); 2027-06-19 is a Saturday (observed 06-18).
    for (const date of ['2025-12-25', '2026-01-01', '2026-01-19', '2026-02-16', '2026-05-25', '2026-06-19']) {
      expect(closed.has(date), date).toBe(true);
    }
    for (const date of ['2026-07-03', '2026-09-07', '2026-10-12', '2026-11-11', '2026-12-25', '2027-06-18']) {
      expect(closed.has(date), date).toBe(true);
    }
    expect(closed.has('2026-07-04')).toBe(false);
  });

  it('blocks Dr. Johnson every Tuesday morning for hospital surgery', () => {
    const johnson = nameOf(riverside, 'Johnson');
    const surgery = riverside.blocks.filter(
      (b) => b.providerId === johnson && b.reason === 'Hospital surgery',
    );
    expect(surgery.length).toBeGreaterThan(100);
    for (const b of surgery) {
      expect(weekdayOf(dateOf(b.start))).toBe(2);
      expect(clockOf(b.start)).toBe('08:00');
      expect(b.end).toBe(`${dateOf(b.start)}T12:00`);
    }
    for (let date = '2026-11-24'; date < '2026-12-21'; date = plusDays(date, 7)) {
      expect(
        surgery.some((b) => b.start === `${date}T08:00`),
        date,
      ).toBe(true);
    }
  });

  it('sends Dr. Williams on vacation for the whole calendar week after today', () => {
    const williams = nameOf(riverside, 'Williams');
    expect(riverside.blocks).toContainEqual(
      expect.objectContaining({ providerId: williams, start: '2026-11-23T00:00', end: '2026-11-30T00:00' }),
    );
  });

  it('extends Dr. Chen’s lunch to 14:00 on one weekday within the next 14 days', () => {
    const chen = nameOf(riverside, 'Chen');
    const extended = riverside.blocks.filter((b) => b.providerId === chen);
    expect(extended).toHaveLength(1);
    const block = extended[0] as SimBlock;
    expect(clockOf(block.start)).toBe('13:00');
    expect(block.end).toBe(`${dateOf(block.start)}T14:00`);
    expect(dateOf(block.start) > TODAY && dateOf(block.start) <= plusDays(TODAY, 14)).toBe(true);
    expect(weekdayOf(dateOf(block.start))).toBeLessThanOrEqual(5);
  });

  it('numbers blocks sequentially and keeps each one a valid wall-time range', () => {
    riverside.blocks.forEach((b, i) => {
      expect(b.id).toBe(i + 1);
      expect(isWallTime(b.start) && isWallTime(b.end)).toBe(true);
      expect(b.start < b.end).toBe(true);
    });
  });
});

describe('the demo practice, patients', () => {
  const patients = riverside.patients;

  it('has about 500 patients with unique ids and MRNs', () => {
    expect(patients.length).toBeGreaterThanOrEqual(450);
    expect(patients.length).toBeLessThanOrEqual(550);
    expect(new Set(patients.map((p) => p.id)).size).toBe(patients.length);
    expect(new Set(patients.map((p) => p.mrn)).size).toBe(patients.length);
  });

  it('includes exactly two John Smiths with different dates of birth', () => {
    const smiths = patients.filter((p) => p.firstName === 'John' && p.lastName === 'Smith');
    expect(smiths).toHaveLength(2);
    expect(smiths[0]?.dob).not.toBe(smiths[1]?.dob);
  });

  it('includes accented, hyphenated and apostrophe names', () => {
    const names = new Set(patients.map((p) => `${p.firstName} ${p.lastName}`));
    for (const name of ['José Núñez', 'Zoë Lefèvre', 'François Côté', 'Mary Garcia-Lopez']) {
      expect(names.has(name), name).toBe(true);
    }
    expect(patients.some((p) => p.lastName.startsWith("O'"))).toBe(true);
  });

  it('gives every patient a birth date, a gender (mostly male or female) and optional contact details', () => {
    const genders = patients.map((p) => p.gender);
    expect(genders.every((g) => ['male', 'female', 'other', 'unknown'].includes(g))).toBe(true);
    expect(genders.filter((g) => g === 'male' || g === 'female').length / genders.length).toBeGreaterThan(
      0.9,
    );
    expect(patients.every((p) => /^\d{4}-\d{2}-\d{2}$/.test(p.dob) && p.dob < TODAY)).toBe(true);
    expect(patients.some((p) => p.phone === null)).toBe(true);
    expect(patients.some((p) => p.phone !== null)).toBe(true);
    expect(patients.some((p) => p.email === null)).toBe(true);
    expect(
      patients.filter((p) => p.email !== null).every((p) => /^[a-z0-9.]+@[a-z.]+$/.test(p.email ?? '')),
    ).toBe(true);
    expect(
      patients.filter((p) => p.address !== null).every((p) => p.address?.city && p.address.postalCode),
    ).toBe(true);
  });

  it('stamps createdAt ≤ modifiedAt ≤ now as wall times with seconds, born before registering', () => {
    const now = `${TODAY}T07:00:00`;
    for (const p of patients) {
      expect(p.createdAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/);
      expect(p.modifiedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/);
      expect(p.createdAt <= p.modifiedAt && p.modifiedAt <= now).toBe(true);
      expect(p.dob < dateOf(p.createdAt)).toBe(true);
    }
  });
});

describe('the demo practice, appointments', () => {
  const appts = riverside.appointments;
  const future = appts.filter((a) => dateOf(a.start) >= TODAY);
  const past = appts.filter((a) => dateOf(a.start) < TODAY);

  it('breaks none of the scheduling rules: weekends, holidays, blocks, templates, overlaps, eligibility, durations', () => {
    expect(appts.length).toBeGreaterThan(1000);
    expect(ruleViolations(riverside)).toEqual([]);
  });

  it('has a rule checker that does catch bookings on holidays, in blocks, off template and overlapping', () => {
    const first = appts.find((a) => a.status === 'completed') as SimAppointment;
    const broken: SimFirmData = {
      ...riverside,
      appointments: [
        { ...first, id: 1, start: '2026-11-26T09:00' },
        { ...first, id: 2, providerId: nameOf(riverside, 'Johnson'), start: '2026-11-24T09:00' },
        { ...first, id: 3, start: '2026-11-23T06:00' },
        { ...first, id: 4, providerId: nameOf(riverside, 'Chen'), locationId: 2, start: '2026-11-30T09:00' },
        { ...first, id: 5, providerId: nameOf(riverside, 'Chen'), locationId: 2, start: '2026-11-30T09:00' },
      ],
    };
    const problems = ruleViolations(broken).join('\n');
    expect(problems).toMatch(/appointment 1 .*on a holiday/);
    expect(problems).toMatch(/appointment 2 .*inside block/);
    expect(problems).toMatch(/appointment 3 .*outside the provider's templates/);
    expect(problems).toMatch(/appointments 4 and 5 overlap/);
  });

  it('books nothing on Thanksgiving or the weekend around it', () => {
    for (const date of ['2026-11-21', '2026-11-22', '2026-11-26', '2026-11-28', '2026-11-29']) {
      expect(
        appts.filter((a) => dateOf(a.start) === date),
        date,
      ).toEqual([]);
    }
    expect(appts.some((a) => dateOf(a.start) === '2026-11-25')).toBe(true);
    expect(appts.some((a) => dateOf(a.start) === '2026-11-27')).toBe(true);
  });

  it('gives Dr. Williams no appointments next week and Dr. Martinez none on Fridays', () => {
    const williams = nameOf(riverside, 'Williams');
    expect(
      appts.filter((a) => a.providerId === williams && a.start >= '2026-11-23' && a.start < '2026-11-30'),
    ).toEqual([]);
    expect(appts.some((a) => a.providerId === williams && a.start >= '2026-11-30')).toBe(true);
    const martinez = nameOf(riverside, 'Martinez');
    expect(appts.filter((a) => a.providerId === martinez && weekdayOf(dateOf(a.start)) === 5)).toEqual([]);
  });

  it('keeps Dr. Johnson free on Tuesday mornings and his new-patient visits on Tuesday afternoons', () => {
    const johnson = nameOf(riverside, 'Johnson');
    const newPatient = typeId(riverside, 'new-patient');
    const his = appts.filter((a) => a.providerId === johnson);
    expect(his.filter((a) => weekdayOf(dateOf(a.start)) === 2 && clockOf(a.start) < '12:00')).toEqual([]);
    const newVisits = his.filter((a) => a.appointmentTypeId === newPatient);
    expect(newVisits.filter((a) => dateOf(a.start) >= TODAY).length).toBeGreaterThan(0);
    for (const a of newVisits) {
      expect(weekdayOf(dateOf(a.start))).toBe(2);
      expect(clockOf(a.start) >= '13:00').toBe(true);
    }
  });

  it('keeps Dr. Chen’s lunch hour and the extended lunch free', () => {
    const chen = nameOf(riverside, 'Chen');
    const lunch = riverside.blocks.find((b) => b.providerId === chen) as SimBlock;
    for (const a of appts.filter((x) => x.providerId === chen)) {
      const end = endOf(a);
      const noon = `${dateOf(a.start)}T12:00`;
      const one = `${dateOf(a.start)}T13:00`;
      expect(a.start < one && end > noon, a.start).toBe(false);
      expect(a.start < lunch.end && end > lunch.start, a.start).toBe(false);
    }
  });

  it('books between 55 % and 65 % of the bookable time of the next 30 days', () => {
    const last = plusDays(TODAY, 29);
    const booked = future
      .filter((a) => !isCancelled(a) && dateOf(a.start) <= last)
      .reduce((sum, a) => sum + a.durationMinutes, 0);
    const fraction = booked / bookableMinutes(riverside, TODAY, last);
    expect(fraction).toBeGreaterThanOrEqual(0.55);
    expect(fraction).toBeLessThanOrEqual(0.65);
    expect(future.every((a) => dateOf(a.start) <= last)).toBe(true);
  });

  it('carries at least 360 days of history', () => {
    const first = appts.map((a) => dateOf(a.start)).sort()[0] ?? TODAY;
    const span = DateTime.fromISO(TODAY, { zone: 'UTC' }).diff(
      DateTime.fromISO(first, { zone: 'UTC' }),
      'days',
    ).days;
    expect(span).toBeGreaterThanOrEqual(360);
  });

  it('gives new-patient visits only to patients with no earlier appointment', () => {
    const newPatient = typeId(riverside, 'new-patient');
    const byPatient = new Map<number, SimAppointment[]>();
    for (const a of appts) byPatient.set(a.patientId, [...(byPatient.get(a.patientId) ?? []), a]);
    const visits = appts.filter((a) => a.appointmentTypeId === newPatient);
    expect(visits.length).toBeGreaterThan(20);
    for (const a of visits) {
      const earlier = (byPatient.get(a.patientId) ?? []).filter(
        (x) => x.start < a.start || (x.start === a.start && x.id !== a.id),
      );
      expect(earlier, `appointment ${a.id}`).toEqual([]);
    }
  });

  it('marks history mostly completed with some cancellations and no-shows, the future scheduled or confirmed', () => {
    const count = (list: SimAppointment[], status: string): number =>
      list.filter((a) => a.status === status).length;
    expect(past.every((a) => ['completed', 'cancelled', 'no-show'].includes(a.status))).toBe(true);
    expect(count(past, 'completed') / past.length).toBeGreaterThan(0.75);
    expect(count(past, 'cancelled')).toBeGreaterThan(0);
    expect(count(past, 'no-show')).toBeGreaterThan(0);
    expect(future.every((a) => ['scheduled', 'confirmed', 'cancelled'].includes(a.status))).toBe(true);
    expect(count(future, 'scheduled')).toBeGreaterThan(0);
    expect(count(future, 'confirmed')).toBeGreaterThan(0);
    expect(count(future, 'cancelled')).toBeGreaterThan(0);
    expect(count(future, 'cancelled') / future.length).toBeLessThan(0.1);
  });

  it('numbers appointments sequentially, refers only to known records and leaves externalRef empty', () => {
    const patientIds = new Set(riverside.patients.map((p) => p.id));
    const locationIds = new Set(riverside.locations.map((l) => l.id));
    const wrong = appts.filter(
      (a, i) =>
        a.id !== i + 1 ||
        !patientIds.has(a.patientId) ||
        !locationIds.has(a.locationId) ||
        a.externalRef !== null,
    );
    expect(wrong).toEqual([]);
    expect(appts.some((a) => a.notes === null)).toBe(true);
    expect(appts.some((a) => typeof a.notes === 'string' && a.notes.length > 0)).toBe(true);
    expect(
      appts.filter((a) => a.status === 'cancelled').every((a) => typeof a.cancelReason === 'string'),
    ).toBe(true);
    expect(appts.filter((a) => a.status !== 'cancelled').every((a) => a.cancelReason === undefined)).toBe(
      true,
    );
  });

  it('stamps createdAt before the start and now, and modifiedAt between createdAt and now', () => {
    const now = `${TODAY}T07:00:00`;
    const stamp = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/;
    const patientCreated = new Map(riverside.patients.map((p) => [p.id, p.createdAt]));
    const wrong = appts.filter(
      (a) =>
        !stamp.test(a.createdAt) ||
        !stamp.test(a.modifiedAt) ||
        !(a.createdAt < `${a.start}:00`) ||
        !(a.createdAt <= a.modifiedAt && a.modifiedAt <= now) ||
        !((patientCreated.get(a.patientId) ?? '9') < a.createdAt),
    );
    expect(wrong).toEqual([]);
  });

  it('never books one patient twice on the same day', () => {
    const seen = new Set<string>();
    for (const a of appts) {
      const key = `${a.patientId} ${dateOf(a.start)}`;
      expect(seen.has(key), key).toBe(false);
      seen.add(key);
    }
  });
});

describe('the demo practice, determinism', () => {
  it('builds deep-equal data from the same options', () => {
    expect(buildDemoPractice({ today: TODAY })).toEqual(riverside);
  });

  it('builds a different firm, under the same rules, from another name and seed', () => {
    const lakeside = buildDemoPractice({ today: TODAY, name: 'Lakeside Pediatrics', seed: 2 });
    expect(lakeside.name).toBe('Lakeside Pediatrics');
    expect(lakeside.locations.every((l) => l.name.includes('Lakeside Pediatrics'))).toBe(true);
    expect(lakeside.patients.map((p) => p.lastName)).not.toEqual(riverside.patients.map((p) => p.lastName));
    expect(lakeside.appointments.map((a) => a.start)).not.toEqual(riverside.appointments.map((a) => a.start));
    expect(ruleViolations(lakeside)).toEqual([]);
    expect(lakeside.patients.filter((p) => p.firstName === 'John' && p.lastName === 'Smith')).toHaveLength(2);
  });

  it('changes only the seed-driven data when just the seed changes', () => {
    const other = buildDemoPractice({ today: TODAY, seed: 7 });
    expect(other.providers).toEqual(riverside.providers);
    expect(other.templates).toEqual(riverside.templates);
    expect(other.appointments).not.toEqual(riverside.appointments);
  });

  it('keeps every timestamp at or before a given now and settles bookings already over', () => {
    const now = wallTimeToInstant('2026-11-20T13:10', ZONE);
    const firm = buildDemoPractice({ today: '2026-11-20', now });
    const nowWall = instantToWallTime(now, ZONE, 'second');
    expect(ruleViolations(firm)).toEqual([]);
    const wrong = firm.appointments.filter(
      (a) =>
        !(a.createdAt <= a.modifiedAt && a.modifiedAt <= nowWall) ||
        (`${endOf(a)}:00` <= nowWall && !['completed', 'cancelled', 'no-show'].includes(a.status)) ||
        (`${a.start}:00` > nowWall && !['scheduled', 'confirmed', 'cancelled'].includes(a.status)),
    );
    expect(wrong).toEqual([]);
    const todays = firm.appointments.filter((a) => dateOf(a.start) === '2026-11-20');
    expect(todays.some((a) => a.status === 'completed')).toBe(true);
    expect(todays.some((a) => a.status === 'scheduled' || a.status === 'confirmed')).toBe(true);
    expect(firm.patients.every((p) => p.modifiedAt <= nowWall)).toBe(true);
  });
});

describe('the demo practice across DST changes', () => {
  const cases = [
    // Clocks spring forward on Sunday 2027-03-14: Friday 08:00 → Monday 08:00 is 71 real hours.
    { today: '2027-03-10', friday: '2027-03-12', monday: '2027-03-15', hours: 71 },
    // Clocks fall back on Sunday 2026-11-01: Friday 08:00 → Monday 08:00 is 73 real hours.
    { today: '2026-10-30', friday: '2026-10-30', monday: '2026-11-02', hours: 73 },
  ];

  for (const c of cases) {
    describe(`with today = ${c.today}`, () => {
      const firm = buildDemoPractice({ today: c.today });

      it('still breaks none of the scheduling rules', () => {
        expect(ruleViolations(firm)).toEqual([]);
        expect(firm.appointments.every((a) => a.createdAt <= a.modifiedAt)).toBe(true);
      });

      it('keeps wall times on the Monday after the change, opening at 08:00 as on any Monday', () => {
        const monday = firm.appointments.filter((a) => dateOf(a.start) === c.monday);
        expect(monday.length).toBeGreaterThan(0);
        expect(monday.some((a) => clockOf(a.start) === '08:00')).toBe(true);
        for (const a of monday) {
          // The wall time exists in the zone and reads back unchanged.
          expect(instantToWallTime(wallTimeToInstant(a.start, ZONE), ZONE)).toBe(a.start);
          expect(templateFor(firm, a)).toBeDefined();
        }
        const gap =
          wallTimeToInstant(`${c.monday}T08:00`, ZONE).getTime() -
          wallTimeToInstant(`${c.friday}T08:00`, ZONE).getTime();
        expect(gap / 3_600_000).toBe(c.hours);
      });

      it('books nothing on the Sunday of the change', () => {
        const sunday = plusDays(c.monday, -1);
        expect(firm.appointments.filter((a) => dateOf(a.start) === sunday)).toEqual([]);
      });
    });
  }
});

describe('the demo fixtures', () => {
  it('are found from a module nested below the repository, as after a build into dist/', () => {
    const here = dirname(fileURLToPath(import.meta.url));
    const root = findRepoRoot(here);
    expect(findRepoRoot(join(root, 'dist', 'src', 'sim'))).toBe(root);
  });
});
