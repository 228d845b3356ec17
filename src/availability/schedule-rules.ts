/**
 * The availability rules a Schedule carries, so the facade computes slots from the store alone and never asks the
 * records system (DESIGN.md section 4). FHIR R4 has no element for weekly working hours or for an appointment
 * type's duration, so they travel as Switchboard extensions; any connector writes them with the builders here and
 * the slot calculator reads them back with {@link readScheduleRules}.
 *
 * On `Schedule.extension`, one per weekly window, in weekday then start order:
 * ```json
 * { "url": "https://switchboard.health/fhir/StructureDefinition/working-hours",
 *   "extension": [
 *     { "url": "day-of-week", "valueCode": "tue" },            // FHIR days-of-week: mon | tue | … | sun
 *     { "url": "start", "valueTime": "13:00:00" },             // wall time in the Location's zone
 *     { "url": "end", "valueTime": "17:00:00" },               // exclusive; "00:00:00" = until midnight
 *     { "url": "appointment-type", "valueCoding": { "system": "…", "code": "new-patient" } }  // 0..*
 *   ] }
 * ```
 * No `appointment-type` means every type of the Schedule's `serviceType` may be booked in the window.
 *
 * On each `Schedule.serviceType` CodeableConcept:
 * ```json
 * { "url": "https://switchboard.health/fhir/StructureDefinition/appointment-duration",
 *   "valueDuration": { "value": 30, "unit": "min", "system": "http://unitsofmeasure.org", "code": "min" } }
 * { "url": "https://switchboard.health/fhir/StructureDefinition/new-patient-only", "valueBoolean": true }
 * ```
 * The zone the wall times are read in is the Location's ({@link TIMEZONE_EXTENSION_URL} on the Location the
 * Schedule's actor points at), not repeated on the Schedule.
 */
import type { CodeableConcept, Coding, Extension, Location, Schedule } from '@medplum/fhirtypes';

const BASE = 'https://switchboard.health/fhir/StructureDefinition';
export const WORKING_HOURS_EXTENSION_URL = `${BASE}/working-hours`;
export const APPOINTMENT_DURATION_EXTENSION_URL = `${BASE}/appointment-duration`;
export const NEW_PATIENT_ONLY_EXTENSION_URL = `${BASE}/new-patient-only`;
/** The standard extension for an IANA zone on a Location (valueCode), accepted by both validators we test with. */
export const TIMEZONE_EXTENSION_URL = 'http://hl7.org/fhir/StructureDefinition/timezone';
export const UCUM_SYSTEM = 'http://unitsofmeasure.org';

/** FHIR `days-of-week` codes, index 0 = ISO weekday 1 (Monday). */
export const DAYS_OF_WEEK = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type DayOfWeek = (typeof DAYS_OF_WEEK)[number];

/** One weekly working-hours window of a schedule. */
export interface WorkingWindow {
  /** ISO weekday: 1 = Monday … 7 = Sunday. */
  weekday: number;
  /** `HH:mm` wall time in the schedule's zone. */
  start: string;
  /** `HH:mm` wall time, exclusive; `24:00` = until midnight. */
  end: string;
  /** Codes of the appointment types bookable in this window; `null` = every type of the schedule. */
  typeCodes: readonly string[] | null;
}

/** An appointment type as bookable on one schedule. */
export interface AppointmentTypeRule {
  /** The tenant's appointment-type code system. */
  system: string;
  code: string;
  display?: string;
  /** Length of the visit in elapsed minutes. */
  minutes: number;
  /** Bookable only for patients with no earlier visit at the practice (checked when booking). */
  newPatientOnly: boolean;
}

/** What a Schedule says about when and what may be booked. */
export interface ScheduleRules {
  windows: WorkingWindow[];
  types: AppointmentTypeRule[];
}

/** The `working-hours` extension of one window; `types` are the codings allowed in it (`null` = all). */
export function workingHoursExtension(
  window: { weekday: number; start: string; end: string },
  types: readonly Coding[] | null,
): Extension {
  const day = DAYS_OF_WEEK[window.weekday - 1];
  if (!day) throw new RangeError(`not an ISO weekday: ${window.weekday}`);
  return {
    url: WORKING_HOURS_EXTENSION_URL,
    extension: [
      { url: 'day-of-week', valueCode: day },
      { url: 'start', valueTime: toFhirTime(window.start) },
      { url: 'end', valueTime: toFhirTime(window.end) },
      ...(types ?? []).map((coding): Extension => ({ url: 'appointment-type', valueCoding: coding })),
    ],
  };
}

/** The extensions a `serviceType` CodeableConcept carries: duration and the new-patient rule. */
export function appointmentTypeExtensions(type: { minutes: number; newPatientOnly: boolean }): Extension[] {
  return [
    {
      url: APPOINTMENT_DURATION_EXTENSION_URL,
      valueDuration: { value: type.minutes, unit: 'min', system: UCUM_SYSTEM, code: 'min' },
    },
    { url: NEW_PATIENT_ONLY_EXTENSION_URL, valueBoolean: type.newPatientOnly },
  ];
}

/**
 * The rules a Schedule carries. Types without a usable duration are left out (no slot can be computed for them),
 * and so are a window's codings that name no type of the schedule. A window that is malformed is skipped rather
 * than guessed at: offering time nobody set up is worse than offering none.
 */
export function readScheduleRules(schedule: Schedule): ScheduleRules {
  const types = (schedule.serviceType ?? []).flatMap((concept) => {
    const type = readType(concept);
    return type ? [type] : [];
  });
  const windows = (schedule.extension ?? [])
    .filter((e) => e.url === WORKING_HOURS_EXTENSION_URL)
    .flatMap((e) => {
      const window = readWindow(e, types);
      return window ? [window] : [];
    });
  return { windows, types };
}

/** The IANA zone on a Location, if it has one. */
export function locationZone(location: Location): string | undefined {
  return location.extension?.find((e) => e.url === TIMEZONE_EXTENSION_URL)?.valueCode;
}

function readType(concept: CodeableConcept): AppointmentTypeRule | undefined {
  const coding = concept.coding?.find((c) => c.code);
  const duration = concept.extension?.find(
    (e) => e.url === APPOINTMENT_DURATION_EXTENSION_URL,
  )?.valueDuration;
  if (!coding?.code || !duration || typeof duration.value !== 'number') return undefined;
  const minutes = durationInMinutes(duration.value, duration.code ?? duration.unit);
  if (minutes === undefined || !Number.isInteger(minutes) || minutes <= 0) return undefined;
  const newPatientOnly =
    concept.extension?.find((e) => e.url === NEW_PATIENT_ONLY_EXTENSION_URL)?.valueBoolean === true;
  const display = coding.display ?? concept.text;
  return {
    system: coding.system ?? '',
    code: coding.code,
    ...(display ? { display } : {}),
    minutes,
    newPatientOnly,
  };
}

function durationInMinutes(value: number, unit: string | undefined): number | undefined {
  if (unit === 'min') return value;
  if (unit === 'h') return value * 60;
  return undefined;
}

function readWindow(extension: Extension, types: readonly AppointmentTypeRule[]): WorkingWindow | undefined {
  const parts = extension.extension ?? [];
  const day = parts.find((p) => p.url === 'day-of-week')?.valueCode;
  const weekday = DAYS_OF_WEEK.indexOf(day as DayOfWeek) + 1;
  const start = fromFhirTime(parts.find((p) => p.url === 'start')?.valueTime, false);
  const end = fromFhirTime(parts.find((p) => p.url === 'end')?.valueTime, true);
  if (weekday === 0 || start === undefined || end === undefined || start >= end) return undefined;
  const codings = parts.filter((p) => p.url === 'appointment-type').map((p) => p.valueCoding);
  const typeCodes =
    codings.length === 0
      ? null
      : types
          .filter((t) => codings.some((c) => c?.code === t.code && (c.system ?? '') === t.system))
          .map((t) => t.code);
  return { weekday, start, end, typeCodes };
}

/** `08:00` → `08:00:00`; `24:00` (until midnight) → `00:00:00`, since FHIR time stops at 23:59:59. */
function toFhirTime(clock: string): string {
  const m = /^(\d{2}):(\d{2})$/.exec(clock);
  if (!m) throw new RangeError(`not an HH:mm clock time: ${JSON.stringify(clock)}`);
  if (clock === '24:00') return '00:00:00';
  if (Number(m[1]) > 23 || Number(m[2]) > 59) throw new RangeError(`not a clock time: ${clock}`);
  return `${clock}:00`;
}

/** `08:00:00` → `08:00`; an end of `00:00:00` means midnight at the end of the day (`24:00`). */
function fromFhirTime(time: string | undefined, isEnd: boolean): string | undefined {
  const m = /^([01]\d|2[0-3]):([0-5]\d)(?::00(?:\.0+)?)?$/.exec(time ?? '');
  if (!m) return undefined;
  const clock = `${m[1]}:${m[2]}`;
  return isEnd && clock === '00:00' ? '24:00' : clock;
}
