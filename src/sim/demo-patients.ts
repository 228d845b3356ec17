/**
 * The demo practice's patients (DESIGN.md section 2): about 500 fictional people drawn from `fixtures/riverside/`
 * name lists, with the awkward cases a front desk meets — two John Smiths, accents, hyphens, apostrophes.
 *
 * Established patients were registered long before the generated history; new patients register when they first
 * book, so their `createdAt` is settled by the appointment generator.
 */
import { addDays, dayNumber, wallToSeconds } from './demo-calendar.js';
import type { DemoNamesFixture } from './demo-fixtures.js';
import type { SeededRandom } from './seeded-random.js';
import { randomDaytimeSecond } from './demo-timestamps.js';
import type { SimAddress, SimGender } from './sim-types.js';

/** A patient before ids are given out (ids follow registration order). */
export interface DemoPatientDraft {
  firstName: string;
  lastName: string;
  dob: string;
  gender: SimGender;
  phone: string | null;
  email: string | null;
  address: SimAddress | null;
  /** `established` patients exist before the history starts; `new` ones arrive during the generated range. */
  kind: 'established' | 'new';
  /** Registration, in wall-clock seconds; `null` for a new patient until the first booking sets it. */
  createdSec: number | null;
  /** Relative likelihood of being the patient of a given visit (chronic patients come more often). */
  visitWeight: number;
  /** New patients only: the day (day number) they first ask for an appointment. */
  arrivalDay: number;
}

export interface DemoPatientCounts {
  established: number;
  new: number;
}

const AGE_BRACKETS: { years: [number, number]; weight: number }[] = [
  { years: [2, 17], weight: 18 },
  { years: [18, 39], weight: 27 },
  { years: [40, 64], weight: 35 },
  { years: [65, 94], weight: 20 },
];

const ASCII_FOLD: Record<string, string> = { ł: 'l', Ł: 'L', ø: 'o', Ø: 'O', æ: 'ae', ß: 'ss', đ: 'd' };

/** `Núñez` → `nunez`, `O'Brien` → `obrien`: the local part of a plausible e-mail address. */
function emailPart(name: string): string {
  return name
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .replace(/[łŁøØæßđ]/g, (c) => ASCII_FOLD[c] ?? '')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '');
}

function dobForAge(rng: SeededRandom, today: string, years: [number, number]): string {
  const minDays = Math.round(years[0] * 365.25) + 1;
  const maxDays = Math.round((years[1] + 1) * 365.25) - 1;
  return addDays(today, -rng.int(minDays, maxDays));
}

function randomGender(rng: SeededRandom): SimGender {
  const r = rng.next();
  if (r < 0.485) return 'male';
  if (r < 0.97) return 'female';
  if (r < 0.985) return 'other';
  return 'unknown';
}

function firstNameFor(rng: SeededRandom, names: DemoNamesFixture, gender: SimGender): string {
  switch (gender) {
    case 'male':
      return rng.pick(names.male);
    case 'female':
      return rng.pick(names.female);
    case 'other':
      return rng.pick(names.neutral);
    case 'unknown':
      return rng.pick(rng.chance(0.5) ? names.male : rng.chance(0.5) ? names.female : names.neutral);
  }
}

function contactDetails(
  rng: SeededRandom,
  names: DemoNamesFixture,
  firstName: string,
  lastName: string,
): Pick<DemoPatientDraft, 'phone' | 'email' | 'address'> {
  const town = rng.pick(names.towns);
  const phone = rng.chance(0.1)
    ? null
    : `(${town.areaCode}) 555-${String(rng.int(0, 9999)).padStart(4, '0')}`;
  let email: string | null = null;
  if (!rng.chance(0.25)) {
    const first = emailPart(firstName);
    const last = emailPart(lastName);
    const style = rng.int(0, 2);
    const local =
      style === 0
        ? `${first}.${last}`
        : style === 1
          ? `${first}${last}${rng.int(1, 99)}`
          : `${first.slice(0, 1)}.${last}`;
    email = `${local}@${rng.pick(names.emailDomains)}`;
  }
  let address: SimAddress | null = null;
  if (!rng.chance(0.03)) {
    address = {
      line1: `${rng.int(1, 999)} ${rng.pick(names.streets)}`,
      city: town.city,
      state: town.state,
      postalCode: town.postalCode,
    };
    if (rng.chance(0.12))
      address.line2 = rng.chance(0.5) ? `Apt ${rng.int(1, 40)}` : `Unit ${rng.int(1, 9)}B`;
  }
  return { phone, email, address };
}

/** Visit frequency: most people come now and then, a few (chronic conditions) very often. */
function visitWeight(rng: SeededRandom): number {
  return 0.2 + -Math.log(1 - rng.next()) * 1.2;
}

/**
 * Draws the practice's patients: the fixture's special cases first (all established), then random established
 * patients, then new patients arriving evenly over `[firstDay, lastDay]` (dates).
 */
export function generatePatientDrafts(
  rng: SeededRandom,
  names: DemoNamesFixture,
  options: {
    today: string;
    registeredBefore: string;
    firstDay: string;
    lastDay: string;
    counts: DemoPatientCounts;
  },
): DemoPatientDraft[] {
  const { today, counts } = options;
  const oldestRegistration = wallToSeconds(`${addDays(today, -12 * 365)}T00:00`);
  const latestRegistration = wallToSeconds(`${options.registeredBefore}T00:00`) - 1;
  const reserved = new Set(names.special.map((s) => `${s.firstName} ${s.lastName}`));
  const seen = new Set<string>();
  const drafts: DemoPatientDraft[] = [];

  const establishedSince = (dob: string): number => {
    const bornSec = wallToSeconds(`${addDays(dob, 1)}T00:00`);
    return randomDaytimeSecond(rng, Math.max(oldestRegistration, bornSec), latestRegistration);
  };

  for (const special of names.special) {
    const dob = dobForAge(rng, today, special.ageYears);
    seen.add(`${special.firstName} ${special.lastName} ${dob}`);
    drafts.push({
      firstName: special.firstName,
      lastName: special.lastName,
      dob,
      gender: special.gender,
      ...contactDetails(rng, names, special.firstName, special.lastName),
      kind: 'established',
      createdSec: establishedSince(dob),
      visitWeight: visitWeight(rng),
      arrivalDay: 0,
    });
  }

  const brackets = AGE_BRACKETS.map((b) => b.weight);
  const firstArrival = dayNumber(options.firstDay);
  const lastArrival = dayNumber(options.lastDay);
  const randomCount = Math.max(0, counts.established - names.special.length) + counts.new;
  for (let i = 0; i < randomCount; i++) {
    const isNew = i >= randomCount - counts.new;
    const gender = randomGender(rng);
    let firstName = '';
    let lastName = '';
    let dob = '';
    // Redraw collisions with the deliberate special cases and exact duplicates (same name and birth date).
    for (;;) {
      firstName = firstNameFor(rng, names, gender);
      lastName = rng.pick(names.last);
      const bracket = AGE_BRACKETS[rng.weightedIndex(brackets)] ?? AGE_BRACKETS[1];
      dob = dobForAge(rng, today, bracket ? bracket.years : [18, 39]);
      const key = `${firstName} ${lastName}`;
      if (!reserved.has(key) && !seen.has(`${key} ${dob}`)) break;
    }
    seen.add(`${firstName} ${lastName} ${dob}`);
    drafts.push({
      firstName,
      lastName,
      dob,
      gender,
      ...contactDetails(rng, names, firstName, lastName),
      kind: isNew ? 'new' : 'established',
      createdSec: isNew ? null : establishedSince(dob),
      visitWeight: visitWeight(rng),
      arrivalDay: isNew ? rng.int(firstArrival, lastArrival) : 0,
    });
  }
  return drafts;
}
