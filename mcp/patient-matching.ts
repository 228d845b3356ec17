/**
 * Finding the patient on the line (issue 13, `find_patient`): candidates gathered through the facade's Patient
 * search (by birth date, by phone, by each name and its first letters — a typo in the first letters is rare), then
 * graded here by how the name, birth date and phone compare:
 * - `exact`: family and given name the same (case, accents and nicknames aside) and the same birth date — and no
 *   other candidate equally so; a different person is never `exact`;
 * - `probable`: the same birth date with a name one typo or a nickname away, or the same name and phone without a
 *   birth date to compare;
 * - `possible`: anything else worth asking about (the same birth date with a similar name, the same name without a
 *   birth date, day and month swapped).
 */
import type { Patient } from '@medplum/fhirtypes';
import type { FhirCaller } from './fhir-caller.js';
import type { ReadBirthDate } from './understanding/birth-date.js';
import {
  familyLikeness,
  givenLikeness,
  normaliseName,
  type NameLikeness,
} from './understanding/name-match.js';

export type MatchGrade = 'exact' | 'probable' | 'possible';

export interface PatientQuery {
  family: string;
  given: string;
  birthDate?: ReadBirthDate;
  /** Digits only. */
  phone?: string;
}

export interface GradedCandidate {
  patient: Patient & { id: string };
  grade: MatchGrade;
  /** Why, for the agent: `same birth date; family name one letter off`. */
  why: string;
}

const PAGE = '100';
const CLOSE: readonly NameLikeness[] = ['same', 'nickname', 'typo'];

export async function gatherCandidates(fhir: FhirCaller, query: PatientQuery): Promise<Patient[]> {
  const searches: Record<string, string>[] = [];
  if (query.birthDate) {
    searches.push({ birthdate: query.birthDate.date });
    if (query.birthDate.otherReading) searches.push({ birthdate: query.birthDate.otherReading });
  }
  if (query.phone) searches.push({ phone: query.phone });
  const family = normaliseName(query.family);
  if (family.length > 0) {
    searches.push({ family: query.family });
    if (family.length >= 3) searches.push({ family: family.slice(0, 2) });
  }
  if (normaliseName(query.given).length > 0 && !query.birthDate) searches.push({ given: query.given });
  const results = await Promise.all(
    searches.map((s) => fhir.search<Patient>('Patient', { ...s, _count: PAGE })),
  );
  const byId = new Map<string, Patient>();
  for (const p of results.flat()) if (p.id) byId.set(p.id, p);
  return [...byId.values()];
}

export function gradeCandidates(patients: readonly Patient[], query: PatientQuery): GradedCandidate[] {
  const graded = patients.flatMap((patient): GradedCandidate[] => {
    if (!patient.id) return [];
    const name = patient.name?.[0];
    const family = familyLikeness(query.family, name?.family ?? '');
    const given = givenLikeness(query.given, name?.given ?? []);
    const dob = !query.birthDate
      ? 'unknown'
      : patient.birthDate === query.birthDate.date
        ? 'same'
        : patient.birthDate === query.birthDate.otherReading
          ? 'swapped'
          : 'different';
    const phoneSame =
      query.phone !== undefined &&
      (patient.telecom ?? []).some(
        (t) => t.system === 'phone' && sameDigits(t.value ?? '', query.phone ?? ''),
      );
    const grade = gradeOf(family, given, dob, phoneSame);
    if (!grade) return [];
    return [
      {
        patient: patient as Patient & { id: string },
        grade,
        why: describe(family, given, dob, phoneSame),
      },
    ];
  });
  // Two people equally exact (same name and birth date) are each only probable: the phone tells them apart.
  if (graded.filter((c) => c.grade === 'exact').length > 1) {
    for (const c of graded) if (c.grade === 'exact') c.grade = 'probable';
  }
  const order: Record<MatchGrade, number> = { exact: 0, probable: 1, possible: 2 };
  return graded.sort((a, b) => order[a.grade] - order[b.grade]);
}

function gradeOf(
  family: NameLikeness,
  given: NameLikeness,
  dob: 'same' | 'swapped' | 'different' | 'unknown',
  phoneSame: boolean,
): MatchGrade | undefined {
  const sameName = family === 'same' && (given === 'same' || given === 'nickname');
  const closeName = CLOSE.includes(family) && CLOSE.includes(given);
  if (dob === 'same') {
    if (sameName) return 'exact';
    if (closeName) return 'probable';
    if (CLOSE.includes(family) || (CLOSE.includes(given) && family !== 'different') || given === 'initial')
      return 'possible';
    return phoneSame ? 'possible' : undefined;
  }
  if (dob === 'swapped') return closeName ? 'possible' : undefined;
  if (dob === 'unknown') {
    if (sameName && phoneSame) return 'probable';
    if (closeName || (phoneSame && (CLOSE.includes(family) || CLOSE.includes(given)))) return 'possible';
    return undefined;
  }
  // A different birth date: the same name and phone is worth asking about (a misheard date), nothing else.
  return sameName && phoneSame ? 'possible' : undefined;
}

function describe(
  family: NameLikeness,
  given: NameLikeness,
  dob: 'same' | 'swapped' | 'different' | 'unknown',
  phoneSame: boolean,
): string {
  const parts = [
    dob === 'same'
      ? 'same birth date'
      : dob === 'swapped'
        ? 'birth date with day and month swapped'
        : dob === 'different'
          ? 'different birth date'
          : 'birth date not compared',
    `family name ${likenessWords(family)}`,
    `given name ${likenessWords(given)}`,
  ];
  if (phoneSame) parts.push('same phone');
  return parts.join('; ');
}

function likenessWords(l: NameLikeness): string {
  switch (l) {
    case 'same':
      return 'the same';
    case 'nickname':
      return 'a nickname of it';
    case 'typo':
      return 'spelled slightly differently';
    case 'initial':
      return 'only the initial matches';
    case 'different':
      return 'different';
  }
}

function sameDigits(a: string, b: string): boolean {
  const strip = (s: string) => s.replace(/\D/g, '').replace(/^1(?=\d{10}$)/, '');
  const x = strip(a);
  return x !== '' && x === strip(b);
}

/** `Smith, John` or `John Smith` or `John Q. Smith` → family and given. */
export function splitName(name: string): { family: string; given: string } {
  const trimmed = name.trim();
  if (trimmed.includes(',')) {
    const [family, given] = trimmed.split(',', 2).map((s) => s.trim());
    return { family: family ?? '', given: (given ?? '').split(/\s+/)[0] ?? '' };
  }
  const words = trimmed.split(/\s+/);
  if (words.length === 1) return { family: words[0] ?? '', given: '' };
  return { family: words[words.length - 1] ?? '', given: words[0] ?? '' };
}
