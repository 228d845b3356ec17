/**
 * Ids of the proposed Appointments `$find` returns (IHE ITI-115), so `$hold` and `$book` can take them back by
 * reference without anything being stored: `{slot id}.{n}`, the computed slot id (schedule, UTC start, minutes:
 * src/availability/slot-id.ts) and the index of the appointment type among the Schedule's `serviceType`s. A slot
 * offering several types of one length gives one proposal per type. With the store's 36-character schedule ids
 * the id stays within FHIR's 64 characters.
 */
import { formatSlotId, parseSlotId, type ParsedSlotId } from '../../src/availability/slot-id.js';

const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;
const PROPOSAL = /^(.+)\.(\d{1,2})$/;

export interface ParsedProposalId extends ParsedSlotId {
  slotId: string;
  /** Index of the appointment type in the Schedule's `serviceType`. */
  typeIndex: number;
}

/** The proposal id, or undefined when it would not be a legal FHIR id. */
export function formatProposalId(slotId: string, typeIndex: number): string | undefined {
  const id = `${slotId}.${typeIndex}`;
  return FHIR_ID.test(id) && typeIndex >= 0 && typeIndex < 100 ? id : undefined;
}

export function parseProposalId(id: string): ParsedProposalId | undefined {
  const match = PROPOSAL.exec(id);
  if (!match || !FHIR_ID.test(id)) return undefined;
  const slotId = match[1] as string;
  const slot = parseSlotId(slotId);
  if (!slot) return undefined;
  const typeIndex = Number(match[2]);
  return formatProposalId(formatSlotId(slot.scheduleId, slot.start, slot.minutes), typeIndex) === id
    ? { ...slot, slotId, typeIndex }
    : undefined;
}
