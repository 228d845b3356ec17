/**
 * The stored patients a described person might be (DESIGN.md section 4, patient matching): those sharing at least
 * one search token with the description. How the candidates are graded is `src/booking/patient-registration.ts`'s.
 */
import { selectInChunks } from './batching.js';
import type { StoreTransaction } from './database.js';

/** One search parameter of Patient and the token values a candidate may have for it (any one suffices). */
export interface PatientProbe {
  param: string;
  values: readonly string[];
}

/** A candidate's current stored version, its content still JSON text. */
export interface PatientCandidateRow {
  id: string;
  version_id: number;
  last_updated: string;
  resource: string;
}

/**
 * The tenant's current, not deleted Patients having a token of at least one of `probes`: the first `limit` by id
 * of those the search index names.
 */
export async function patientCandidates(
  db: StoreTransaction,
  tenantId: string,
  probes: readonly PatientProbe[],
  limit: number,
): Promise<PatientCandidateRow[]> {
  const rows = await db
    .selectFrom('search_tokens')
    .select('resource_id')
    .distinct()
    .where('tenant_id', '=', tenantId)
    .where('resource_type', '=', 'Patient')
    .where((eb) =>
      eb.or(probes.map((p) => eb.and([eb('param', '=', p.param), eb('value', 'in', [...p.values])]))),
    )
    .orderBy('resource_id')
    .limit(limit)
    .execute();
  return selectInChunks(
    rows.map((r) => r.resource_id),
    (part) =>
      db
        .selectFrom('resources')
        .select(['id', 'version_id', 'last_updated', 'resource'])
        .where('tenant_id', '=', tenantId)
        .where('resource_type', '=', 'Patient')
        .where('deleted', '=', 0)
        .where('id', 'in', part)
        .execute(),
  );
}
