/**
 * New patients (DESIGN.md sections 1 and 4: "create a new patient (flagged for staff review)"): matching a
 * described person against the patients the store holds (registering one in the records system when nobody
 * matches with certainty is `patient-registrar.ts`). Serves `POST Patient` and `Patient/$match` (standards.md 1.2).
 *
 * Matching is deterministic and explainable rather than probabilistic: each agreeing element adds a fixed weight
 * (family name 0.25, given name 0.2, birth date 0.3, phone 0.2, gender 0.05; a disagreeing known gender takes 0.1
 * off), and the grade follows from which elements agree:
 * - `certain`: an identifier agrees, or family name, given name, birth date and phone all agree (and gender does
 *   not disagree) — the rule by which `POST Patient` returns the existing patient instead of a duplicate;
 * - `probable`: a score of at least 0.7 (three of name, birth date and phone);
 * - `possible`: at least 0.45 (two of them); anything less is not a match and is left out.
 */
import type { Coding, Patient } from '@medplum/fhirtypes';
import type { Store } from '../store/database.js';
import { patientCandidates } from '../store/patient-candidates.js';
import { foldText } from '../store/search-parameters/token-values.js';
import type { BookingFailure } from './booking-types.js';

/** `meta.tag` of a patient Switchboard created: staff should review (and merge) it in the records system. */
export const NEEDS_REVIEW_TAG: Readonly<Coding> = Object.freeze({
  system: 'https://switchboard.health/fhir/CodeSystem/workflow',
  code: 'needs-review',
  display: 'Created through Switchboard; needs staff review',
});

/** Grades of http://hl7.org/fhir/StructureDefinition/match-grade that a match can have. */
export type MatchGrade = 'certain' | 'probable' | 'possible';

export interface PatientMatch {
  patient: Patient & { id: string };
  versionId: number;
  lastUpdated: string;
  /** 0..1 */
  score: number;
  grade: MatchGrade;
}

/** Most candidates looked at per match: patients sharing the family name, birth date, phone or identifier. */
const MAX_CANDIDATES = 500;
/** Most values of one element looked up (names, phones and identifiers of one description). */
const MAX_VALUES_PER_PROBE = 50;

/**
 * Patients of the tenant matching `wanted`, best first (score, then id). Only patients sharing at least the family
 * name, birth date, a phone number or an identifier with `wanted` are considered.
 *
 * @see https://hl7.org/fhir/R4/patient-operation-match.html
 */
export async function matchPatients(
  store: Store,
  tenantId: string,
  wanted: Patient,
  options: { limit?: number } = {},
): Promise<PatientMatch[]> {
  const person = describe(wanted);
  const probes: Array<{ param: string; values: string[] }> = [
    { param: 'family', values: person.families.flatMap((f) => [f.folded, f.joined]) },
    { param: 'birthdate', values: person.birthDate ? [person.birthDate] : [] },
    { param: 'phone', values: person.phones },
    { param: 'identifier', values: person.identifiers },
  ]
    .filter((p) => p.values.length > 0)
    .map((p) => ({ param: p.param, values: [...new Set(p.values)].slice(0, MAX_VALUES_PER_PROBE) }));
  if (probes.length === 0) return [];
  const stored = await patientCandidates(store.db, tenantId, probes, MAX_CANDIDATES);
  const matches: PatientMatch[] = [];
  for (const row of stored) {
    const patient = JSON.parse(row.resource) as Patient & { id: string };
    const graded = grade(person, describe(patient));
    if (graded) {
      matches.push({ patient, versionId: row.version_id, lastUpdated: row.last_updated, ...graded });
    }
  }
  matches.sort((a, b) => b.score - a.score || (a.patient.id < b.patient.id ? -1 : 1));
  return matches.slice(0, options.limit ?? matches.length);
}

export interface PatientRegistration {
  ok: true;
  /** False when an existing patient matched with certainty and is returned instead. */
  created: boolean;
  patient: Patient & { id: string };
  versionId: number;
  lastUpdated: string;
}

/**
 * The records system may have created the patient and Switchboard could not find out yet (time-out, dropped
 * connection, an error after the write): not a failure, and nothing is re-sent until a search settles it. The same
 * request again reconciles first (issue 10 item 5).
 */
export interface PatientRegistrationPending {
  ok: false;
  pending: true;
  registrationId: string;
  /** Plain words, safe to read to a patient. */
  message: string;
  retryAfterSeconds: number;
}

export type PatientRegistrationOutcome = PatientRegistration | BookingFailure | PatientRegistrationPending;

interface Person {
  families: Array<{ folded: string; joined: string }>;
  givens: string[];
  birthDate: string | undefined;
  /** Digits; a North American number also without its leading 1. */
  phones: string[];
  /** `system|value` */
  identifiers: string[];
  gender: string | undefined;
}

function describe(patient: Patient): Person {
  const names = patient.name ?? [];
  return {
    families: names.flatMap((n) => {
      const folded = fold(n.family ?? '');
      return folded ? [{ folded, joined: joined(folded) }] : [];
    }),
    givens: [...new Set(names.flatMap((n) => (n.given ?? []).flatMap((g) => fold(g).split(' '))))]
      .map(joined)
      .filter((g) => g !== ''),
    birthDate: patient.birthDate,
    phones: [
      ...new Set(
        (patient.telecom ?? [])
          .filter((t) => (t.system === 'phone' || t.system === 'sms') && t.value)
          .flatMap((t) => {
            const digits = (t.value ?? '').replace(/\D/g, '');
            if (digits === '') return [];
            return digits.length === 11 && digits.startsWith('1') ? [digits, digits.slice(1)] : [digits];
          }),
      ),
    ],
    identifiers: (patient.identifier ?? []).flatMap((i) =>
      i.system && i.value?.trim() ? [`${i.system}|${i.value.trim()}`] : [],
    ),
    gender: patient.gender && patient.gender !== 'unknown' ? patient.gender : undefined,
  };
}

function grade(wanted: Person, candidate: Person): { score: number; grade: MatchGrade } | undefined {
  if (wanted.identifiers.some((i) => candidate.identifiers.includes(i)))
    return { score: 1, grade: 'certain' };
  const family = wanted.families.some((w) => candidate.families.some((c) => c.joined === w.joined));
  const given = wanted.givens.some((g) => candidate.givens.includes(g));
  const birthDate = wanted.birthDate !== undefined && wanted.birthDate === candidate.birthDate;
  const phone = wanted.phones.some((p) => candidate.phones.includes(p));
  const genderKnown = wanted.gender !== undefined && candidate.gender !== undefined;
  const genderDisagrees = genderKnown && wanted.gender !== candidate.gender;
  const score =
    (family ? 0.25 : 0) +
    (given ? 0.2 : 0) +
    (birthDate ? 0.3 : 0) +
    (phone ? 0.2 : 0) +
    (genderKnown && !genderDisagrees ? 0.05 : 0) -
    (genderDisagrees ? 0.1 : 0);
  const rounded = Math.round(Math.max(0, Math.min(1, score)) * 100) / 100;
  if (family && given && birthDate && phone && !genderDisagrees) return { score: rounded, grade: 'certain' };
  if (rounded >= 0.7) return { score: rounded, grade: 'probable' };
  if (rounded >= 0.45) return { score: rounded, grade: 'possible' };
  return undefined;
}

function fold(text: string): string {
  return foldText(text).trim().replace(/\s+/g, ' ');
}

/** Letters and digits only: `o'brien` → `obrien`, `alvarez-nunez` → `alvareznunez`. */
function joined(folded: string): string {
  return folded.replace(/[^\p{L}\p{N}]+/gu, '');
}

/**
 * The person `patient` describes, as one string: two requests for the same person (whatever their spelling of
 * accents, case or phone punctuation) have the same key, so an attempt whose outcome is unknown is found again.
 */
export function personKey(patient: Patient): string {
  const person = describe(patient);
  return JSON.stringify([
    [...new Set(person.families.map((f) => f.joined))].sort(),
    [...person.givens].sort(),
    person.birthDate ?? null,
    [...person.phones].sort(),
  ]);
}
