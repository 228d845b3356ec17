/**
 * Exporting the audit trail for archiving (issue 15 item 4): the trail is never pruned (HIPAA asks six years), and
 * an operator archives it elsewhere with `switchboard audit-export --since …`: one JSON object a line (NDJSON), oldest
 * first, each with its hash-chain fields (`prevHash`, `hash`) so the archive can be checked against the store
 * (`verifyAuditTrail`) and a later export continues the chain.
 */
import { auditRows, firstAuditSeqAt, type AuditEventsTable } from '../store/audit-rows.js';
import type { Store } from '../store/database.js';
import { toAuditEntry, type AuditEntry } from './audit-trail.js';

const PAGE = 1000;

/** One exported line: the row as `readAuditTrail` gives it (`tenant` for its tenant id) with its hash-chain fields. */
export interface ExportedAuditEvent extends Omit<AuditEntry, 'tenantId'> {
  tenant: string;
  prevHash: string;
  hash: string;
}

/** What {@link exportAuditTrail} exports: rows recorded at or after `since` and before `until` (ISO-8601 UTC). */
export interface AuditExportRange {
  since: string;
  until?: string;
}

/**
 * Writes the tenant's audit rows in `range` to `write`, one NDJSON line each, page by page (memory stays flat
 * whatever the size of the trail). Returns how many rows it wrote.
 */
export async function exportAuditTrail(
  store: Store,
  tenantId: string,
  range: AuditExportRange,
  write: (line: string) => void | Promise<void>,
): Promise<number> {
  const first = await firstAuditSeqAt(store, tenantId, range.since);
  if (first === undefined) return 0;
  let written = 0;
  let from = { seq: first, inclusive: true };
  for (;;) {
    const rows = await auditRows(store, tenantId, from, PAGE);
    for (const row of rows) {
      if (range.until !== undefined && row.recorded_at >= range.until) return written;
      await write(`${JSON.stringify(toExported(row))}\n`);
      written += 1;
    }
    const last = rows[rows.length - 1];
    if (!last || rows.length < PAGE) return written;
    from = { seq: last.seq, inclusive: false };
  }
}

function toExported(row: AuditEventsTable): ExportedAuditEvent {
  const { tenantId, ...entry } = toAuditEntry(row);
  return { tenant: tenantId, ...entry, prevHash: row.prev_hash, hash: row.hash };
}
