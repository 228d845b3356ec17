/**
 * The rows of `booking_sagas` (DESIGN.md section 4): one per booking saga, written before each step so a crash
 * leaves a row the recovery worker can finish or undo. What a saga is and means — its kinds and states, which sagas
 * are running or stale, the request it keeps — is `src/booking/saga/saga-store.ts`'s; this file reads and writes
 * the rows, kinds and states as the strings stored.
 */
import type { StoreTransaction } from './database.js';
import type { BookingSagasTable } from './schema.js';

/** Inserts a saga's row; throws the database's unique violation when the tenant already has a saga of that id. */
export async function insertSagaRow(trx: StoreTransaction, row: BookingSagasTable): Promise<void> {
  await trx.insertInto('booking_sagas').values(row).execute();
}

/**
 * Sets `values` on the saga's row, only while its kind and state are those of `only` where given (a
 * compare-and-set). The number of rows changed: 0 or 1.
 */
export async function updateSagaRow(
  trx: StoreTransaction,
  tenantId: string,
  id: string,
  values: Partial<BookingSagasTable>,
  only: Partial<Pick<BookingSagasTable, 'kind' | 'state'>> = {},
): Promise<number> {
  let query = trx
    .updateTable('booking_sagas')
    .set(values)
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id);
  if (only.kind !== undefined) query = query.where('kind', '=', only.kind);
  if (only.state !== undefined) query = query.where('state', '=', only.state);
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** The saga's row, if there is one. */
export function sagaRow(
  db: StoreTransaction,
  tenantId: string,
  id: string,
): Promise<BookingSagasTable | undefined> {
  return db
    .selectFrom('booking_sagas')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
}

/** What releasing a saga reads of its row inside the releasing transaction (and journals). */
export type SagaReleaseRow = Pick<
  BookingSagasTable,
  'state' | 'kind' | 'practitioner_id' | 'start_at' | 'end_at' | 'appointment_id' | 'updated_at'
>;

/** {@link SagaReleaseRow} of the saga, if there is one. */
export function sagaReleaseRow(
  trx: StoreTransaction,
  tenantId: string,
  id: string,
): Promise<SagaReleaseRow | undefined> {
  return trx
    .selectFrom('booking_sagas')
    .select(['state', 'kind', 'practitioner_id', 'start_at', 'end_at', 'appointment_id', 'updated_at'])
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
}

/** Which sagas {@link staleSagaRows} returns: every condition holds. */
export interface StaleSagaFilter {
  /** Sagas in one of these states whose last step is older than `updatedBefore`… */
  states: readonly string[];
  updatedBefore: Date;
  /** …or in this state whose last step is older than `unknownUpdatedBefore`. */
  unknownState: string;
  unknownUpdatedBefore: Date;
  /** Sagas of this kind count only once they have expired at `now`. */
  waitingKind: string;
  now: Date;
  /** Sagas owned by one of these instances are left out (those of no owner are not). */
  liveOwners: readonly string[];
  limit: number;
}

/** The tenant's saga rows matching `filter`, oldest first. */
export async function staleSagaRows(
  db: StoreTransaction,
  tenantId: string,
  filter: StaleSagaFilter,
): Promise<BookingSagasTable[]> {
  const { liveOwners } = filter;
  let query = db
    .selectFrom('booking_sagas')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where((eb) =>
      eb.or([
        eb.and([
          eb('state', 'in', [...filter.states]),
          eb('updated_at', '<', filter.updatedBefore.toISOString()),
        ]),
        eb.and([
          eb('state', '=', filter.unknownState),
          eb('updated_at', '<', filter.unknownUpdatedBefore.toISOString()),
        ]),
      ]),
    )
    .where((eb) =>
      eb.or([eb('kind', '!=', filter.waitingKind), eb('expires_at', '<', filter.now.toISOString())]),
    );
  if (liveOwners.length > 0) {
    query = query.where((eb) =>
      eb.or([eb('owner_instance', 'is', null), eb('owner_instance', 'not in', [...liveOwners])]),
    );
  }
  return query.orderBy('created_at').limit(filter.limit).execute();
}

/** The tenant's saga rows in one of `states` and of one of `kinds`, oldest first, at most `limit`. */
export function sagaRowsIn(
  db: StoreTransaction,
  tenantId: string,
  states: readonly string[],
  kinds: readonly string[],
  limit: number,
): Promise<BookingSagasTable[]> {
  return db
    .selectFrom('booking_sagas')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('state', 'in', [...states])
    .where('kind', 'in', [...kinds])
    .orderBy('created_at')
    .limit(limit)
    .execute();
}
