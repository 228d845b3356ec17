/**
 * The simulated records system's reference data as the sim connector last read it (providers, locations,
 * appointment types, templates), with the hash every record's source hash is salted with, so a change of reference
 * data or of the mapping re-maps what depends on it.
 */
import { createHash, hash } from 'node:crypto';
import type { SimAppointmentType, SimLocation, SimProvider, SimTemplate } from '../../sim/sim-types.js';
import type { SimClient } from './sim-client.js';
import { scheduleKey } from './sim-fhir-context.js';

/** The records system's reference data as last read; appointments and blocks are mapped against it. */
export interface Snapshot {
  providers: SimProvider[];
  locations: SimLocation[];
  types: SimAppointmentType[];
  templates: SimTemplate[];
  /** Hash of all of the above, the tenant and the mapping version: part of every record's source hash. */
  key: string;
}

/** Bump when the mapping changes what it produces, so stored source hashes stop matching. */
const MAPPING_VERSION = 1;

/** SHA-256 of the snapshot's key and the raw record (one-shot `hash`: a pass computes 100,000 of these). */
export const sourceHashOf = (snapshot: Snapshot, raw: unknown): string =>
  hash('sha256', snapshot.key + JSON.stringify(raw), 'base64url');

export function uniqueSchedules(
  templates: readonly SimTemplate[],
): Array<{ providerId: number; locationId: number }> {
  const seen = new Map<string, { providerId: number; locationId: number }>();
  for (const t of templates) seen.set(scheduleKey(t.providerId, t.locationId), t);
  return [...seen.values()];
}

/** Reads the reference data anew. */
export async function readSimSnapshot(
  client: SimClient,
  tenantId: string,
  timezone: string | undefined,
  signal: AbortSignal | undefined,
): Promise<Snapshot> {
  const [providers, locations, types, templates] = await Promise.all([
    client.get<SimProvider[]>('/providers', {}, signal),
    client.get<SimLocation[]>('/locations', {}, signal),
    client.get<SimAppointmentType[]>('/appointment-types', {}, signal),
    client.get<SimTemplate[]>('/templates', {}, signal),
  ]);
  const key = createHash('sha256')
    .update(
      JSON.stringify([MAPPING_VERSION, tenantId, timezone ?? null, providers, locations, types, templates]),
    )
    .digest('base64url');
  return { providers, locations, types, templates, key };
}
