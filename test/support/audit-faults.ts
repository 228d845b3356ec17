/**
 * Makes the audit trail's commits fail, as a full disk or a lost database would: a trigger that aborts every insert
 * into `audit_events` (both dialects), and its removal.
 */
import { sql } from 'kysely';
import type { Store } from '../../src/store/database.js';

export async function failAuditInserts(store: Store): Promise<void> {
  if (store.dialect === 'sqlite') {
    await sql`create trigger audit_fault before insert on audit_events begin select raise(abort, 'audit store unavailable'); end`.execute(
      store.db,
    );
    return;
  }
  await sql`create function audit_fault() returns trigger language plpgsql as $$ begin raise exception 'audit store unavailable'; end $$`.execute(
    store.db,
  );
  await sql`create trigger audit_fault before insert on audit_events for each statement execute function audit_fault()`.execute(
    store.db,
  );
}

export async function healAuditInserts(store: Store): Promise<void> {
  await sql`drop trigger audit_fault${store.dialect === 'postgres' ? sql` on audit_events` : sql``}`.execute(
    store.db,
  );
  if (store.dialect === 'postgres') await sql`drop function audit_fault()`.execute(store.db);
}
