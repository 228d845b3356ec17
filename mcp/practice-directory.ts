/**
 * The practice as the tools talk about it — practitioners, locations, appointment types and who offers them —
 * read through the facade (Location, Practitioner, Schedule searches) once per tool call, and the resolution of
 * what an agent says ("Dr. Chen", "follow up", "Northgate") to ids and codes. An unknown name is a tool error that
 * lists the valid choices (issue 13: never an empty answer that sounds like "nothing free").
 */
import type { Location, Practitioner, Schedule } from '@medplum/fhirtypes';
import { locationZone, readScheduleRules, type ScheduleRules } from '../src/availability/schedule-rules.js';
import type { FhirCaller } from './fhir-caller.js';
import { ToolError } from './tool-error.js';
import { editDistance, normaliseName } from './understanding/name-match.js';

export interface PractitionerEntry {
  id: string;
  /** `Dr. Grace Chen`. */
  name: string;
  family: string;
  given: string[];
  specialty?: string;
}

export interface LocationEntry {
  id: string;
  name: string;
  address?: string;
  phone?: string;
  zone?: string;
}

export interface ScheduleEntry {
  id: string;
  practitionerId: string;
  locationId: string;
  rules: ScheduleRules;
}

export interface AppointmentTypeEntry {
  code: string;
  name: string;
  minutes: number;
  newPatientOnly: boolean;
  /** Practitioner ids offering it. */
  offeredBy: string[];
}

export interface PracticeDirectory {
  practitioners: PractitionerEntry[];
  locations: LocationEntry[];
  schedules: ScheduleEntry[];
  types: AppointmentTypeEntry[];
  /** The practice's IANA zone: its locations', else the tenant's configured zone, else UTC. */
  zone: string;
  practitioner(id: string): PractitionerEntry | undefined;
  location(id: string): LocationEntry | undefined;
  resolveType(said: string): AppointmentTypeEntry;
  resolvePractitioner(said: string): PractitionerEntry;
  resolveLocation(said: string): LocationEntry;
}

/** More than any practice has; the directory reads every row in one page. */
const DIRECTORY_PAGE = '500';

export async function loadPracticeDirectory(
  fhir: FhirCaller,
  fallbackZone: string | undefined,
): Promise<PracticeDirectory> {
  const [locations, practitioners, schedules] = await Promise.all([
    fhir.search<Location>('Location', { _count: DIRECTORY_PAGE }),
    fhir.search<Practitioner>('Practitioner', { _count: DIRECTORY_PAGE, active: 'true' }),
    fhir.search<Schedule>('Schedule', { _count: DIRECTORY_PAGE, active: 'true' }),
  ]);
  const locationEntries = locations.map(locationEntry);
  const practitionerEntries = practitioners.map(practitionerEntry);
  const scheduleEntries = schedules.flatMap((s): ScheduleEntry[] => {
    const practitionerId = actorId(s, 'Practitioner');
    const locationId = actorId(s, 'Location');
    if (!s.id || !practitionerId || !locationId) return [];
    return [{ id: s.id, practitionerId, locationId, rules: readScheduleRules(s) }];
  });
  const types = new Map<string, AppointmentTypeEntry>();
  for (const schedule of scheduleEntries) {
    for (const t of schedule.rules.types) {
      const entry = types.get(t.code) ?? {
        code: t.code,
        name: t.display ?? t.code,
        minutes: t.minutes,
        newPatientOnly: t.newPatientOnly,
        offeredBy: [],
      };
      if (!entry.offeredBy.includes(schedule.practitionerId)) entry.offeredBy.push(schedule.practitionerId);
      types.set(t.code, entry);
    }
  }
  const zone = locationEntries.find((l) => l.zone)?.zone ?? fallbackZone ?? 'UTC';
  const directory: PracticeDirectory = {
    practitioners: practitionerEntries,
    locations: locationEntries,
    schedules: scheduleEntries,
    types: [...types.values()],
    zone,
    practitioner: (id) => practitionerEntries.find((p) => p.id === id),
    location: (id) => locationEntries.find((l) => l.id === id),
    resolveType: (said) => resolveType(directory.types, said),
    resolvePractitioner: (said) => resolvePractitioner(practitionerEntries, said),
    resolveLocation: (said) => resolveLocation(locationEntries, said),
  };
  return directory;
}

function actorId(schedule: Schedule, type: string): string | undefined {
  const ref = schedule.actor?.find((a) => a.reference?.startsWith(`${type}/`))?.reference;
  return ref?.slice(type.length + 1);
}

function locationEntry(l: Location): LocationEntry {
  const a = l.address;
  const address = a
    ? [...(a.line ?? []), a.city, [a.state, a.postalCode].filter(Boolean).join(' ')]
        .filter(Boolean)
        .join(', ')
    : undefined;
  const zone = locationZone(l);
  const phone = l.telecom?.find((t) => t.system === 'phone')?.value;
  return {
    id: l.id ?? '',
    name: l.name ?? l.id ?? '',
    ...(address ? { address } : {}),
    ...(phone ? { phone } : {}),
    ...(zone ? { zone } : {}),
  };
}

function practitionerEntry(p: Practitioner): PractitionerEntry {
  const name = p.name?.[0];
  const given = name?.given ?? [];
  const family = name?.family ?? '';
  const specialty = p.qualification?.[0]?.code?.text ?? p.qualification?.[0]?.code?.coding?.[0]?.display;
  const full = [...(name?.prefix ?? ['Dr.']), ...given, family].filter(Boolean).join(' ');
  return { id: p.id ?? '', name: full, family, given, ...(specialty ? { specialty } : {}) };
}

/** Lower case letters and digits only, words kept apart. */
function words(text: string): string[] {
  return text
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w !== '');
}

function resolveType(types: readonly AppointmentTypeEntry[], said: string): AppointmentTypeEntry {
  const key = normaliseName(said);
  const byKey = (t: AppointmentTypeEntry) => [normaliseName(t.code), normaliseName(t.name)];
  const exact = types.filter((t) => byKey(t).includes(key));
  if (exact.length === 1) return exact[0] as AppointmentTypeEntry;
  // "physical", "consult", "new patient", "followup visit": every word said appears in one type's name or code.
  const saidWords = words(said).filter((w) => !['visit', 'appointment', 'an', 'a', 'the'].includes(w));
  const partial = types.filter((t) => {
    const own = [...words(t.name), ...words(t.code)].map(normaliseName);
    const joined = normaliseName(`${t.name}`);
    return (
      saidWords.length > 0 &&
      saidWords.every(
        (w) => own.some((o) => o === w || o.startsWith(w) || editDistance(o, w) <= 1) || joined.includes(w),
      )
    );
  });
  if (partial.length === 1) return partial[0] as AppointmentTypeEntry;
  const choices = types.map((t) => `${t.code} (${t.name})`).join(', ');
  throw new ToolError(
    partial.length > 1
      ? `"${said}" could be ${partial.map((t) => t.code).join(' or ')}; ask which. Appointment types: ${choices}.`
      : `There is no appointment type "${said}". Appointment types: ${choices}.`,
  );
}

function resolvePractitioner(practitioners: readonly PractitionerEntry[], said: string): PractitionerEntry {
  const byId = practitioners.find((p) => p.id === said.trim());
  if (byId) return byId;
  const saidWords = words(said).filter((w) => !['dr', 'doctor', 'doc', 'md'].includes(w));
  const matches = (exactOnly: boolean) =>
    practitioners.filter((p) => {
      const own = [...p.given, p.family].flatMap(words);
      return (
        saidWords.length > 0 &&
        saidWords.every((w) =>
          own.some((o) => o === w || (!exactOnly && w.length > 3 && editDistance(o, w) <= 1)),
        )
      );
    });
  const exact = matches(true);
  const found = exact.length > 0 ? exact : matches(false);
  if (found.length === 1) return found[0] as PractitionerEntry;
  const choices = practitioners.map((p) => `${p.name} (${p.id})`).join(', ');
  throw new ToolError(
    found.length > 1
      ? `"${said}" could be ${found.map((p) => p.name).join(' or ')}; ask which. Practitioners: ${choices}.`
      : `There is no practitioner "${said}" at this practice. Practitioners: ${choices}.`,
  );
}

function resolveLocation(locations: readonly LocationEntry[], said: string): LocationEntry {
  const byId = locations.find((l) => l.id === said.trim());
  if (byId) return byId;
  const saidWords = words(said);
  const found = locations.filter((l) => {
    const own = [...words(l.name), ...words(l.address ?? '')];
    return saidWords.length > 0 && saidWords.every((w) => own.includes(w));
  });
  if (found.length === 1) return found[0] as LocationEntry;
  const choices = locations.map((l) => `${l.name} (${l.id})`).join(', ');
  throw new ToolError(
    found.length > 1
      ? `"${said}" could be ${found.map((l) => l.name).join(' or ')}; ask which. Locations: ${choices}.`
      : `There is no location "${said}". Locations: ${choices}.`,
  );
}
