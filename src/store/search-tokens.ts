/**
 * Normalised search values written beside each resource version (DESIGN.md section 3), so the facade answers
 * name, identifier, phone, code and reference searches with indexed equality or prefix lookups in either dialect.
 */
import type {
  Address,
  Appointment,
  CodeableConcept,
  ContactPoint,
  HumanName,
  Identifier,
  Location,
  Patient,
  Practitioner,
  Resource,
  Schedule,
  Slot,
} from '@medplum/fhirtypes';
import { referenceKey } from './reference-key.js';

/** One search value of one resource: `param` is the FHIR search parameter it serves. */
export interface SearchToken {
  param: string;
  value: string;
}

/**
 * Accent- and case-folds text: NFD, combining marks removed, lower-cased. `"José Núñez"` → `"jose nunez"`.
 * Apply the same folding to search input before comparing with stored tokens.
 *
 * @see DESIGN.md section 3
 */
export function foldText(text: string): string {
  return text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}

/**
 * The search tokens of `resource`, without duplicates. Patient, Practitioner, Location, Schedule, Slot and
 * Appointment have tokens; other resource types have none.
 *
 * - names (`name`, and `family`/`given` for people): folded whole, each folded word, and the words run together
 *   without punctuation (`"O'Brien"` → `o'brien`, `o`, `brien`, `obrien`); `name` also holds the full folded name
 *   (`jose nunez`);
 * - `identifier`: `system|value` and `value`;
 * - `phone` (digits only; a US number also without its leading 1), `email` (lower-cased), `telecom` (either);
 * - `birthdate`, `gender`;
 * - `address` (Patient, Location): the text forms of each line, city, district, state, postal code, country
 *   and text, folded as names are;
 * - codes (`service-type`, `appointment-type`, `specialty`, `service-category`): `system|code` and `code`;
 * - references (`actor`, `patient`, `practitioner`, `location`, a Slot's `schedule`, an Appointment's `slot`):
 *   `Type/id`.
 *
 * @see DESIGN.md section 3
 */
export function searchTokensFor(resource: Resource): SearchToken[] {
  const tokens = new TokenSet();
  // An if-chain, not a switch: most resource types deliberately have no tokens.
  if (resource.resourceType === 'Patient' || resource.resourceType === 'Practitioner') {
    addPersonTokens(tokens, resource);
    if (resource.birthDate) tokens.add('birthdate', resource.birthDate);
    if (resource.resourceType === 'Patient') addAddresses(tokens, resource.address);
  } else if (resource.resourceType === 'Location') {
    addLocationTokens(tokens, resource);
  } else if (resource.resourceType === 'Schedule') {
    addScheduleTokens(tokens, resource);
  } else if (resource.resourceType === 'Slot') {
    addSlotTokens(tokens, resource);
  } else if (resource.resourceType === 'Appointment') {
    addAppointmentTokens(tokens, resource);
  }
  return tokens.toArray();
}

/** Collects tokens once each, in first-seen order. */
class TokenSet {
  readonly #seen = new Set<string>();
  readonly #tokens: SearchToken[] = [];

  add(param: string, value: string | undefined): void {
    if (value === undefined || value === '') return;
    const key = `${param}\u0000${value}`;
    if (this.#seen.has(key)) return;
    this.#seen.add(key);
    this.#tokens.push({ param, value });
  }

  toArray(): SearchToken[] {
    return [...this.#tokens];
  }
}

function addPersonTokens(tokens: TokenSet, person: Patient | Practitioner): void {
  for (const name of person.name ?? []) addHumanName(tokens, name);
  addIdentifiers(tokens, person.identifier);
  addTelecom(tokens, person.telecom);
  if (person.gender) tokens.add('gender', person.gender);
}

function addHumanName(tokens: TokenSet, name: HumanName): void {
  const given = name.given ?? [];
  for (const part of given) {
    addTextForms(tokens, 'given', part);
    addTextForms(tokens, 'name', part);
  }
  if (name.family) {
    addTextForms(tokens, 'family', name.family);
    addTextForms(tokens, 'name', name.family);
  }
  for (const part of [...(name.prefix ?? []), ...(name.suffix ?? [])]) addTextForms(tokens, 'name', part);
  const full = [...given, name.family ?? ''].filter((part) => part.trim() !== '').join(' ');
  tokens.add('name', normaliseSpaces(foldText(full)));
  if (name.text) addTextForms(tokens, 'name', name.text);
}

/**
 * The folded text whole, each space-separated part, each word inside a part, and parts and whole with their
 * punctuation and spaces removed, so `O'Brien`, `obrien`, `Núñez-García` and `garcia` all find what people typed.
 */
function addTextForms(tokens: TokenSet, param: string, text: string): void {
  const folded = normaliseSpaces(foldText(text));
  if (folded === '') return;
  tokens.add(param, folded);
  for (const part of folded.split(' ')) {
    tokens.add(param, part);
    const words = wordsOf(part);
    for (const word of words) tokens.add(param, word);
    tokens.add(param, words.join(''));
  }
  tokens.add(param, wordsOf(folded).join(''));
}

function wordsOf(text: string): string[] {
  return text.split(/[^\p{L}\p{N}]+/u).filter((word) => word !== '');
}

function normaliseSpaces(text: string): string {
  return text.trim().replace(/\s+/g, ' ');
}

function addIdentifiers(tokens: TokenSet, identifiers: Identifier[] | undefined): void {
  for (const identifier of identifiers ?? []) {
    const value = identifier.value?.trim();
    if (!value) continue;
    if (identifier.system) tokens.add('identifier', `${identifier.system}|${value}`);
    tokens.add('identifier', value);
  }
}

function addTelecom(tokens: TokenSet, telecom: ContactPoint[] | undefined): void {
  for (const point of telecom ?? []) {
    const value = point.value?.trim();
    if (!value) continue;
    switch (point.system) {
      case 'phone':
      case 'fax':
      case 'sms':
      case 'pager':
        for (const digits of phoneForms(value)) {
          if (point.system === 'phone' || point.system === 'sms') tokens.add('phone', digits);
          tokens.add('telecom', digits);
        }
        break;
      case 'email':
        tokens.add('email', value.toLowerCase());
        tokens.add('telecom', value.toLowerCase());
        break;
      case 'url':
      case 'other':
      case undefined:
        tokens.add('telecom', value);
        break;
    }
  }
}

/** Digits only; a North American number with its country code is also kept without it, as people dial it. */
function phoneForms(value: string): string[] {
  const digits = value.replace(/\D/g, '');
  if (digits === '') return [];
  if (digits.length === 11 && digits.startsWith('1')) return [digits, digits.slice(1)];
  return [digits];
}

function addCodes(
  tokens: TokenSet,
  param: string,
  concepts: CodeableConcept[] | CodeableConcept | undefined,
): void {
  const list = concepts === undefined ? [] : Array.isArray(concepts) ? concepts : [concepts];
  for (const concept of list) {
    for (const coding of concept.coding ?? []) {
      if (!coding.code) continue;
      if (coding.system) tokens.add(param, `${coding.system}|${coding.code}`);
      tokens.add(param, coding.code);
    }
  }
}

function addLocationTokens(tokens: TokenSet, location: Location): void {
  if (location.name) addTextForms(tokens, 'name', location.name);
  for (const alias of location.alias ?? []) addTextForms(tokens, 'name', alias);
  addIdentifiers(tokens, location.identifier);
  addTelecom(tokens, location.telecom);
  addAddresses(tokens, location.address);
}

/** Every part of every address, as text forms under `address` (R4 `address` matches any part of it). */
function addAddresses(tokens: TokenSet, addresses: Address[] | Address | undefined): void {
  const list = addresses === undefined ? [] : Array.isArray(addresses) ? addresses : [addresses];
  for (const a of list) {
    for (const part of [...(a.line ?? []), a.city, a.district, a.state, a.postalCode, a.country, a.text]) {
      if (part !== undefined) addTextForms(tokens, 'address', part);
    }
  }
}

function addScheduleTokens(tokens: TokenSet, schedule: Schedule): void {
  for (const actor of schedule.actor ?? []) tokens.add('actor', referenceKey(actor));
  addCodes(tokens, 'service-type', schedule.serviceType);
  addCodes(tokens, 'service-category', schedule.serviceCategory);
  addCodes(tokens, 'specialty', schedule.specialty);
  addIdentifiers(tokens, schedule.identifier);
}

function addSlotTokens(tokens: TokenSet, slot: Slot): void {
  addCodes(tokens, 'service-type', slot.serviceType);
  addCodes(tokens, 'service-category', slot.serviceCategory);
  addCodes(tokens, 'specialty', slot.specialty);
  addCodes(tokens, 'appointment-type', slot.appointmentType);
  addIdentifiers(tokens, slot.identifier);
  tokens.add('schedule', referenceKey(slot.schedule));
}

function addAppointmentTokens(tokens: TokenSet, appointment: Appointment): void {
  addCodes(tokens, 'service-type', appointment.serviceType);
  addCodes(tokens, 'service-category', appointment.serviceCategory);
  addCodes(tokens, 'specialty', appointment.specialty);
  addCodes(tokens, 'appointment-type', appointment.appointmentType);
  addIdentifiers(tokens, appointment.identifier);
  for (const participant of appointment.participant ?? []) {
    const key = referenceKey(participant.actor);
    if (key === undefined) continue;
    tokens.add('actor', key);
    const param = PARTICIPANT_PARAMS[key.slice(0, key.indexOf('/'))];
    if (param !== undefined) tokens.add(param, key);
  }
  for (const slot of appointment.slot ?? []) tokens.add('slot', referenceKey(slot));
}

/** Appointment search parameters that narrow `actor` to one participant type. */
const PARTICIPANT_PARAMS: Readonly<Record<string, string>> = Object.freeze({
  Patient: 'patient',
  Practitioner: 'practitioner',
  Location: 'location',
});
