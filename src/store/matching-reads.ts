/**
 * What outbox matching reads inside the writing transaction (DESIGN.md section 6): a resource version as stored
 * and the live Schedules of a practitioner at a location. The decisions (which events reach which subscription,
 * which Schedules an event touched) are `src/webhooks/delivery/event-facts.ts` and `outbox-matching.ts`.
 */
import type { StoreTransaction } from './database.js';

/** One stored version, its content still JSON text. */
export interface VersionRow {
  resource: string;
  deleted: number;
  version_id: number;
}

/**
 * Version `versionId` of a resource from `resource_history`, or the current row of `resources` when `versionId`
 * is null; undefined when there is none.
 */
export async function versionRow(
  trx: StoreTransaction,
  tenantId: string,
  resourceType: string,
  id: string,
  versionId: number | null,
): Promise<VersionRow | undefined> {
  return versionId === null
    ? trx
        .selectFrom('resources')
        .select(['resource', 'deleted', 'version_id'])
        .where('tenant_id', '=', tenantId)
        .where('resource_type', '=', resourceType)
        .where('id', '=', id)
        .executeTakeFirst()
    : trx
        .selectFrom('resource_history')
        .select(['resource', 'deleted', 'version_id'])
        .where('tenant_id', '=', tenantId)
        .where('resource_type', '=', resourceType)
        .where('id', '=', id)
        .where('version_id', '=', versionId)
        .executeTakeFirst();
}

/** The ids of the live Schedules of `practitioner` at `location`, in id order. */
export async function liveScheduleIds(
  trx: StoreTransaction,
  tenantId: string,
  practitioner: string,
  location: string,
): Promise<string[]> {
  const rows = await trx
    .selectFrom('resources')
    .select('id')
    .where('tenant_id', '=', tenantId)
    .where('resource_type', '=', 'Schedule')
    .where('ref_practitioner', '=', practitioner)
    .where('ref_location', '=', location)
    .where('deleted', '=', 0)
    .orderBy('id')
    .execute();
  return rows.map((row) => row.id);
}
