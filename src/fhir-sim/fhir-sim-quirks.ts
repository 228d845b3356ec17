/**
 * Switchable behaviours of the FHIR records-system simulator that are not faults but field quirks (issue 12): what
 * users of real FHIR scheduling APIs report, so Switchboard's tests can show it absorbs each one.
 * `POST /_sim/quirks` merges a patch; `POST /_sim/reset` restores these defaults.
 */
import { invalidRequest } from '../sim/sim-http-error.js';

export interface FhirSimQuirks {
  /** A cancelled Appointment leaves its Slots `busy` (as athenaPractice's FHIR cancel does). */
  cancelKeepsSlotBusy: boolean;
  /** `POST Appointment` may book another free Slot at the same start (another schedule) than the one passed. */
  createLandsOnOtherSlot: boolean;
  /** `POST Appointment` drops `identifier` (the marker must then travel in `comment`). */
  createDropsIdentifier: boolean;
  /** 429 answers carry no `Retry-After` (the client must back off on its own). */
  omitRetryAfter: boolean;
  /**
   * The server publishes no Slots (a ModMed- or Cerner-style upstream without them): `Slot` interactions answer
   * 404 and the CapabilityStatement lists no Slot resource; availability must come from working hours.
   */
  noSlots: boolean;
  /**
   * The server offers IHE-/Epic-style scheduling operations, listed in its CapabilityStatement:
   * `GET Appointment/$find?start=&end=&practitioner=` (proposed Appointments for the free time) and
   * `POST Appointment/$book` (a Parameters with `appointment`; refused `409` when the time is taken).
   */
  findAndBook: boolean;
  /** A Slot search must bound `start` both ways and span at most this many days (ModMed: a few days). */
  slotSearchMaxDays: number;
}

export const DEFAULT_FHIR_SIM_QUIRKS: Readonly<FhirSimQuirks> = {
  cancelKeepsSlotBusy: false,
  createLandsOnOtherSlot: false,
  createDropsIdentifier: false,
  omitRetryAfter: false,
  noSlots: false,
  findAndBook: false,
  slotSearchMaxDays: 7,
};

const FLAGS = [
  'cancelKeepsSlotBusy',
  'createLandsOnOtherSlot',
  'createDropsIdentifier',
  'omitRetryAfter',
  'noSlots',
  'findAndBook',
] as const;

/** A validated patch; unknown keys are refused so a misspelt quirk never silently does nothing. */
export function parseFhirSimQuirksPatch(raw: unknown): Partial<FhirSimQuirks> {
  if (raw === undefined) return {};
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw invalidRequest('body', 'the body must be a JSON object');
  }
  const patch: Partial<FhirSimQuirks> = {};
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    if ((FLAGS as readonly string[]).includes(key)) {
      if (typeof value !== 'boolean') throw invalidRequest(key, `${key} must be true or false`);
      patch[key as (typeof FLAGS)[number]] = value;
    } else if (key === 'slotSearchMaxDays') {
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > 366) {
        throw invalidRequest(key, 'slotSearchMaxDays must be a whole number from 1 to 366');
      }
      patch.slotSearchMaxDays = value;
    } else {
      throw invalidRequest(key, `unknown quirk ${key}`);
    }
  }
  return patch;
}
