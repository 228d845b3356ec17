/**
 * Exporting the audit trail for archiving (issue 15 item 4): the trail is never pruned (HIPAA asks six years), and
 * an operator archives it elsewhere with `switchboard audit-export --since …`: one JSON object a line (NDJSON), oldest
 * first, each with its hash-chain fields (`prevHash`, `hash`) so the archive can be checked against the store
 * (`verifyAuditTrail`) and a later export continues the chain.
 */
import { auditRows, firstAuditSeqAt, type AuditEventsTable } from '../store/audit-rows.js';
import type { Store } from '../store/database.js';

const PAGE = 1000;

/** One exported line. */
export interface ExportedAuditEvent {
  tenant: string;
  seq: number;
  recordedAt: string;
  clientId: string | null;
  requestId: string;
  action: string;
  resourceType: string | null;
  resourceIds: string[];
  status: number;
  parameters: string[];
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
  return {
    tenant: row.tenant_id,
    seq: Number(row.seq),
    recordedAt: row.recorded_at,
    clientId: row.client_id,
    requestId: row.request_id,
    action: row.action,
    resourceType: row.resource_type,
    resourceIds: JSON.parse(row.resource_ids) as string[],
    status: row.status,
    parameters: JSON.parse(row.parameters) as string[],
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}
