/**
 * The static part of the demo practice (DESIGN.md section 2): `fixtures/riverside/*.json`, read from the repository
 * so the same code works under tsx (`src/sim/`) and after `tsc` (`dist/src/sim/`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SimAddress, SimGender } from './sim-types.js';

export interface DemoLocationFixture {
  key: string;
  /** `{practice}` is replaced by the practice name. */
  name: string;
  address: SimAddress;
  phone: string;
}

export interface DemoProviderFixture {
  key: string;
  firstName: string;
  lastName: string;
  npi: string;
  specialty: string;
}

export interface DemoAppointmentTypeFixture {
  code: string;
  name: string;
  durationMinutes: number;
  /** `"all"` or provider keys. */
  providers: 'all' | string[];
  newPatientOnly: boolean;
  /** Relative share of bookings (for a new-patient type: when a new patient is waiting). */
  weight: number;
  /** How many days ahead patients book this type, `[min, max]`. */
  leadDays: [number, number];
}

export interface DemoTemplateFixture {
  provider: string;
  location: string;
  weekdays: number[];
  start: string;
  end: string;
  /** Appointment type codes this window allows; absent = every type the provider may do. */
  appointmentTypes?: string[];
}

export interface DemoPracticeFixture {
  name: string;
  timezone: string;
  locations: DemoLocationFixture[];
  providers: DemoProviderFixture[];
  appointmentTypes: DemoAppointmentTypeFixture[];
  templates: DemoTemplateFixture[];
  /** A provider block on every such weekday of the generated range. */
  weeklyBlocks: { provider: string; weekday: number; start: string; end: string; reason: string }[];
  /** The provider is away the whole calendar week after today's. */
  vacationNextWeek: { provider: string; reason: string };
  /** One working day within the next `withinDays` days gets this provider block. */
  extendedLunch: { provider: string; start: string; end: string; withinDays: number; reason: string };
  /** Which provider new patients ask for, by provider key (relative weights). */
  newPatientShare: Record<string, number>;
}

export interface DemoSpecialPatientFixture {
  firstName: string;
  lastName: string;
  gender: SimGender;
  ageYears: [number, number];
}

export interface DemoNamesFixture {
  male: string[];
  female: string[];
  neutral: string[];
  last: string[];
  special: DemoSpecialPatientFixture[];
  streets: string[];
  towns: { city: string; state: string; postalCode: string; areaCode: string }[];
  emailDomains: string[];
}

export interface DemoVisitNotesFixture {
  /** Sample notes by appointment type code. */
  notes: Record<string, string[]>;
  cancelReasons: string[];
}

export interface DemoFixtures {
  practice: DemoPracticeFixture;
  names: DemoNamesFixture;
  visitNotes: DemoVisitNotesFixture;
}

/** The repository root: the nearest folder above this module that holds `package.json`. */
export function findRepoRoot(fromDir: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = fromDir;
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${fromDir}`);
    dir = parent;
  }
}

function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8')) as unknown;
}

function requireArray(value: unknown, what: string): void {
  if (!Array.isArray(value) || value.length === 0)
    throw new Error(`demo fixture: ${what} must be a non-empty list`);
}

/** Reads `fixtures/riverside/` and checks the shape well enough that a broken edit fails loudly here. */
export function loadDemoFixtures(root: string = findRepoRoot()): DemoFixtures {
  const dir = join(root, 'fixtures', 'riverside');
  const practice = readJson(join(dir, 'practice.json')) as DemoPracticeFixture;
  const names = readJson(join(dir, 'names.json')) as DemoNamesFixture;
  const visitNotes = readJson(join(dir, 'visit-notes.json')) as DemoVisitNotesFixture;
  for (const key of ['locations', 'providers', 'appointmentTypes', 'templates'] as const) {
    requireArray(practice[key], `practice.${key}`);
  }
  for (const key of ['male', 'female', 'neutral', 'last', 'streets', 'towns', 'emailDomains'] as const) {
    requireArray(names[key], `names.${key}`);
  }
  requireArray(visitNotes.cancelReasons, 'visitNotes.cancelReasons');
  const providerKeys = new Set(practice.providers.map((p) => p.key));
  const locationKeys = new Set(practice.locations.map((l) => l.key));
  const typeCodes = new Set(practice.appointmentTypes.map((t) => t.code));
  for (const t of practice.templates) {
    if (!providerKeys.has(t.provider) || !locationKeys.has(t.location)) {
      throw new Error(`demo fixture: template for unknown provider/location ${t.provider}/${t.location}`);
    }
    for (const code of t.appointmentTypes ?? []) {
      if (!typeCodes.has(code)) throw new Error(`demo fixture: template names unknown type ${code}`);
    }
  }
  for (const key of [practice.vacationNextWeek.provider, practice.extendedLunch.provider]) {
    if (!providerKeys.has(key)) throw new Error(`demo fixture: unknown provider ${key}`);
  }
  for (const b of practice.weeklyBlocks) {
    if (!providerKeys.has(b.provider)) throw new Error(`demo fixture: unknown provider ${b.provider}`);
  }
  return { practice, names, visitNotes };
}
