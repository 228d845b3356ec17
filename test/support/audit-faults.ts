/**
 * Makes the audit trail's commits fail, as a full disk or a lost database would: a trigger that aborts every insert
 * into `audit_events` (both dialects), and its removal.
 */
import { sql } from 'kysely';
import type { Store } from '../../src/store/database.js';

export async function failAuditInserts(store: Store, tenantId?: string): Promise<void> {
  // Every insert, or only the rows of one tenant.
  if (store.dialect === 'sqlite') {
    const when = tenantId === undefined ? sql`` : sql`when new.tenant_id = ${sql.lit(tenantId)}`;
    await sql`create trigger audit_fault before insert on audit_events ${when} begin select raise(abort, 'audit store unavailable'); end`.execute(
      store.db,
    );
    return;
  }
  await sql`create function audit_fault() returns trigger language plpgsql as $$ begin raise exception 'audit store unavailable'; end $$`.execute(
    store.db,
  );
  const scope =
    tenantId === undefined
      ? sql`for each statement`
      : sql`for each row when (new.tenant_id = ${sql.lit(tenantId)})`;
  await sql`create trigger audit_fault before insert on audit_events ${scope} execute function audit_fault()`.execute(
    store.db,
  );
}

export async function healAuditInserts(store: Store): Promise<void> {
  await sql`drop trigger audit_fault${store.dialect === 'postgres' ? sql` on audit_events` : sql``}`.execute(
    store.db,
  );
  if (store.dialect === 'postgres') await sql`drop function audit_fault()`.execute(store.db);
}
