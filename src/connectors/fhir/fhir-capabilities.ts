/**
 * What an upstream FHIR server can do (issue 12 item 2), as capabilities rather than vendor kinds: each is taken
 * from the tenant's configuration when given there, else read from the server's CapabilityStatement where it says
 * so, else a safe default. Nothing here switches on who made the server.
 */
import type { CapabilityStatement, CapabilityStatementRestResource } from '@medplum/fhirtypes';
import type { FhirCapabilitySettings } from '../../config-fhir-connector.js';

export interface FhirUpstreamCapabilities {
  /** Longest `start` range of one Slot search; wider windows are searched in chunks. */
  slotSearchMaxDays: number;
  /** Patients (and appointments) can be searched by `_lastUpdated`. */
  lastUpdated: boolean;
  /** `Appointment.identifier` survives a create, so the marker is searched by identifier (else by comment). */
  identifierSurvivesCreate: boolean;
  /**
   * Where bookable time comes from: `slots`, the server's open Slots; `hours`, the configured working hours minus
   * the server's appointments (it publishes no Slots).
   */
  availability: 'slots' | 'hours';
  /** The server offers `$find`/`$book`. */
  findAndBook: boolean;
  /** Cancelling an appointment frees its Slot upstream. */
  cancelFreesSlot: boolean;
}

/** Without configuration or a statement that says otherwise: a window of a few days, as ModMed documents. */
export const DEFAULT_SLOT_SEARCH_MAX_DAYS = 3;

const resourceOf = (
  cs: CapabilityStatement | undefined,
  type: string,
): CapabilityStatementRestResource | undefined =>
  cs?.rest?.flatMap((rest) => rest.resource ?? []).find((r) => r.type === type);

const hasSearchParam = (resource: CapabilityStatementRestResource | undefined, name: string): boolean =>
  resource?.searchParam?.some((p) => p.name === name) ?? false;

/** The window limit a server states in prose (`…span at most 7 days`); there is no standard element for it. */
function statedWindowDays(slot: CapabilityStatementRestResource | undefined): number | undefined {
  const text = [slot?.documentation, ...(slot?.searchParam ?? []).map((p) => p.documentation)].join(' ');
  const match = /(?:at most|max(?:imum)?(?: of)?|up to)\s+(\d{1,3})\s+days?/i.exec(text);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/**
 * Configuration first, then the statement (which may be missing: some servers hide `metadata`). A statement that
 * lists no Slot resource means `hours`, but only when working hours are configured to compute free time from.
 */
export function resolveCapabilities(
  configured: FhirCapabilitySettings,
  statement: CapabilityStatement | undefined,
  options: { workingHoursConfigured?: boolean } = {},
): FhirUpstreamCapabilities {
  const slot = resourceOf(statement, 'Slot');
  const appointment = resourceOf(statement, 'Appointment');
  const patient = resourceOf(statement, 'Patient');
  const operations = [
    ...(statement?.rest ?? []).flatMap((rest) => rest.operation ?? []),
    ...(appointment?.operation ?? []),
  ].map((op) => op.name.replace(/^\$/, ''));
  return {
    slotSearchMaxDays: configured.slotSearchMaxDays ?? statedWindowDays(slot) ?? DEFAULT_SLOT_SEARCH_MAX_DAYS,
    lastUpdated: configured.lastUpdated ?? hasSearchParam(patient, '_lastUpdated'),
    identifierSurvivesCreate:
      configured.identifierSurvivesCreate ?? hasSearchParam(appointment, 'identifier'),
    availability:
      configured.availability ?? (statement && !slot && options.workingHoursConfigured ? 'hours' : 'slots'),
    findAndBook: configured.findAndBook ?? (operations.includes('find') && operations.includes('book')),
    // Not stated anywhere standard; assume the worst. Switchboard trusts appointments over Slot status anyway.
    cancelFreesSlot: configured.cancelFreesSlot ?? false,
  };
}
