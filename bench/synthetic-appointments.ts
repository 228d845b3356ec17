/**
 * A large, deterministic practice for the sync-diff benchmark: 100,000 appointments over a year, pointing at
 * ~2,000 patients, 10 practitioners and 2 locations, as `UpstreamRecord<Appointment>`s whose `toFhir` is the sim
 * connector's real mapping (so content, hashing and search columns cost what they cost in production).
 *
 * A "variant" flips a fixed 1 % of the records (every 100th: half change status, half move their start by 30
 * minutes, all staying inside the window), so passes can alternate between two states and each one changes
 * exactly that 1 %.
 */
import type { Appointment } from '@medplum/fhirtypes';
import { createHash } from 'node:crypto';
import type { UpstreamRecord } from '../src/connectors/connector.js';
import { simAppointmentRecord, type SimRecordContext } from '../src/connectors/sim/sim-records.js';
import type {
  SimAppointment,
  SimAppointmentStatus,
  SimAppointmentType,
  SimLocation,
  SimProvider,
} from '../src/sim/sim-types.js';
import { wallTimeToInstant } from '../src/wall-time.js';

export const SYNTHETIC_ZONE = 'America/New_York';
export const SYNTHETIC_TENANT = 'bench';
/** The window every appointment starts in (practice-local dates), and the pass's scope. */
export const SYNTHETIC_WINDOW = { fromDate: '2026-01-01', toDate: '2027-01-01' } as const;

export interface SyntheticOptions {
  appointments: number;
  patients: number;
  /** Which state the changing 1 % is in: `a` as first loaded, `b` changed. */
  variant: 'a' | 'b';
}

export const DEFAULT_SYNTHETIC: Omit<SyntheticOptions, 'variant'> = {
  appointments: 100_000,
  patients: 2_000,
};

/** One in this many records belongs to the changing set (1 %). */
export const CHANGE_EVERY = 100;

const FIRST = ['Sarah', 'Robert', 'Elena', 'David', 'Grace', 'Amir', 'Lucia', 'Tomás', 'Priya', 'Kwame'];
const LAST = [
  'Johnson',
  'Martinez',
  'Williams',
  'Chen',
  'Okafor',
  'Haddad',
  'Novák',
  'Patel',
  'Nguyen',
  'Reyes',
];

const providers: SimProvider[] = FIRST.map((firstName, i) => ({
  id: i + 1,
  firstName,
  lastName: LAST[i] ?? 'Doe',
  npi: String(1_234_567_890 + i),
  specialty: i % 3 === 2 ? 'Internal Medicine' : 'Family Medicine',
  active: true,
}));

const locations: SimLocation[] = [
  {
    id: 1,
    name: 'Riverside Family Medicine – Main Street',
    address: {
      line1: '120 Main Street',
      line2: 'Suite 200',
      city: 'Beacon',
      state: 'NY',
      postalCode: '12508',
    },
    phone: '(845) 555-0142',
    timezone: SYNTHETIC_ZONE,
  },
  {
    id: 2,
    name: 'Riverside Family Medicine – Northgate',
    address: { line1: '45 Northgate Plaza', city: 'Fishkill', state: 'NY', postalCode: '12524' },
    phone: '(845) 555-0178',
    timezone: SYNTHETIC_ZONE,
  },
];

const allProviders = providers.map((p) => p.id);
const types: SimAppointmentType[] = [
  ['annual-physical', 'Annual physical', 30],
  ['new-patient', 'New patient visit', 45],
  ['follow-up', 'Follow-up visit', 15],
  ['sick-visit', 'Sick visit', 20],
  ['procedure-consult', 'Procedure consultation', 30],
].map(([code, name, minutes], i) => ({
  id: i + 1,
  code: code as string,
  name: name as string,
  durationMinutes: minutes as number,
  providerIds: allProviders,
  newPatientOnly: code === 'new-patient',
}));

const STATUSES: SimAppointmentStatus[] = ['scheduled', 'confirmed', 'confirmed', 'completed', 'completed'];
const NOTES = [
  'Sore throat, 3 days',
  'Blood pressure check',
  'Follow-up on lab results',
  'Knee pain after fall',
];

/** Practice-local `YYYY-MM-DD` plus `days`. */
function addDays(date: string, days: number): string {
  const t = Date.parse(`${date}T00:00:00Z`) + days * 86_400_000;
  return new Date(t).toISOString().slice(0, 10);
}

const WINDOW_DAYS = Math.round(
  (Date.parse(`${SYNTHETIC_WINDOW.toDate}T00:00:00Z`) -
    Date.parse(`${SYNTHETIC_WINDOW.fromDate}T00:00:00Z`)) /
    86_400_000,
);
/** The window's dates, and the 28 days before it (creation dates), computed once: not part of what is measured. */
const DATES = Array.from({ length: WINDOW_DAYS + 28 }, (_, k) => addDays(SYNTHETIC_WINDOW.fromDate, k - 28));
const dateOf = (day: number) => DATES[day + 28] as string;

const pad = (n: number) => String(n).padStart(2, '0');

/** The upstream row of appointment `i`, in the state `variant` gives it. */
export function syntheticSimAppointment(i: number, options: SyntheticOptions): SimAppointment {
  const day = i % WINDOW_DAYS;
  const date = dateOf(day);
  // 08:00 … 16:50 in 10-minute steps: never near midnight, so a 30-minute move stays on the same day.
  const slot = Math.floor(i / WINDOW_DAYS) % 54;
  let minutes = 8 * 60 + slot * 10;
  const type = types[i % types.length] as SimAppointmentType;
  let status = STATUSES[(i * 7) % STATUSES.length] as SimAppointmentStatus;
  const cancelled = i % 37 === 0;
  if (cancelled) status = 'cancelled';
  const changing = i % CHANGE_EVERY === 0 && options.variant === 'b';
  if (changing && (i / CHANGE_EVERY) % 2 === 0) status = status === 'confirmed' ? 'checked-in' : 'confirmed';
  else if (changing) minutes += 30;
  const createdDate = dateOf(day - ((i % 28) + 1));
  return {
    id: i + 1,
    patientId: ((i * 7919) % options.patients) + 1,
    providerId: (i % providers.length) + 1,
    locationId: (Math.floor(i / providers.length) % locations.length) + 1,
    appointmentTypeId: type.id,
    start: `${date}T${pad(Math.floor(minutes / 60))}:${pad(minutes % 60)}`,
    durationMinutes: type.durationMinutes,
    status,
    notes: i % 3 === 0 ? (NOTES[i % NOTES.length] ?? null) : null,
    externalRef: i % 5 === 0 ? `switchboard:bk-${i.toString(36)}` : null,
    ...(status === 'cancelled' ? { cancelReason: 'Patient called to cancel' } : {}),
    createdAt: `${createdDate}T${pad(9 + (i % 8))}:${pad(i % 60)}:${pad((i * 13) % 60)}`,
    modifiedAt: `${createdDate}T${pad(9 + (i % 8))}:${pad(i % 60)}:${pad((i * 13) % 60)}`,
  };
}

/** The reference data the synthetic appointments are mapped against, as the sim connector holds it. */
export const SYNTHETIC_RECORD_CONTEXT: SimRecordContext = {
  tenantId: SYNTHETIC_TENANT,
  zone: SYNTHETIC_ZONE,
  snapshot: {
    providers,
    locations,
    types,
    templates: [],
    key: createHash('sha256')
      .update(JSON.stringify([SYNTHETIC_TENANT, providers, locations, types]))
      .digest('base64url'),
  },
};

/** The records a window read of the synthetic practice returns, built the way the sim connector builds them. */
export function syntheticAppointmentRecords(options: SyntheticOptions): UpstreamRecord<Appointment>[] {
  return Array.from({ length: options.appointments }, (_, i) => syntheticAppointmentRecord(i, options));
}

/**
 * The same records as pages of `pageSize`, each built only when the pass asks for it: what a records system
 * listing the window page by page hands out, without the whole window in memory at once.
 */
export async function* syntheticAppointmentPages(
  options: SyntheticOptions,
  pageSize: number,
): AsyncGenerator<UpstreamRecord<Appointment>[]> {
  for (let first = 0; first < options.appointments; first += pageSize) {
    const last = Math.min(options.appointments, first + pageSize);
    yield Array.from({ length: last - first }, (_, k) => syntheticAppointmentRecord(first + k, options));
    await Promise.resolve();
  }
}

/**
 * Record `i` of the synthetic window, built by the sim connector's own record builder: a source hash of the raw
 * row with the reference data it is mapped against (an unchanged record is not mapped again), and `mapAppointment`.
 */
function syntheticAppointmentRecord(i: number, options: SyntheticOptions): UpstreamRecord<Appointment> {
  return simAppointmentRecord(syntheticSimAppointment(i, options), SYNTHETIC_RECORD_CONTEXT);
}

/** The pass's scope: every appointment starting in the window. */
export function syntheticScope(): { periodFrom: string; periodTo: string } {
  return {
    periodFrom: wallTimeToInstant(`${SYNTHETIC_WINDOW.fromDate}T00:00`, SYNTHETIC_ZONE).toISOString(),
    periodTo: wallTimeToInstant(`${SYNTHETIC_WINDOW.toDate}T00:00`, SYNTHETIC_ZONE).toISOString(),
  };
}
