/**
 * The audit trail (DESIGN.md section 7; standards.md 7.4; reliability.md section 4): one row per PHI access, write
 * or denial — who (client), what (action, resource type, resource ids, parameter names), when, which tenant,
 * which request, and the outcome (HTTP status). Never PHI values: ids, types and search parameter NAMES only, and
 * every field is checked against a strict shape before it is stored, so a caller's mistake (passing `name=Smith`
 * as a parameter, say) cannot put a value into the table.
 *
 * Rows are numbered per tenant (gap-free, like the change journal) and hash-chained: `hash` = SHA-256 of the
 * previous row's hash and this row's content, so {@link verifyAuditTrail} detects an edited, deleted or truncated
 * row. The module only ever inserts.
 *
 * `src/` may not import `fhir/`, so the record and context shapes are declared here; they are structurally
 * compatible with `AuditSink`, `AuditRecord` and `FhirRequestContext` of `fhir/access.ts`, and the object
 * {@link createAuditTrail} returns can be used as an `AuditSink` as it is.
 */
import { auditCounter, auditRows, type AuditEventsTable } from '../store/audit-rows.js';
import type { Store } from '../store/database.js';
import { AUDIT_GENESIS_HASH, appendAuditEvents, rowHash, type PendingAuditEvent } from './audit-chain.js';
import { createGroupCommit, type GroupCommit } from '../store/group-commit.js';
import { createTipAppend } from './tip-append.js';

export { AUDIT_GENESIS_HASH, appendAuditEvent } from './audit-chain.js';

/** Who asked, for which tenant, in which request. `FhirRequestContext` fits this shape. */
export interface AuditContext {
  readonly tenant: { readonly id: string };
  readonly client: { readonly id: string } | undefined;
  readonly requestId: string;
}

/** What happened. `AuditRecord` of `fhir/access.ts` fits this shape. */
export interface AuditEventInput {
  /** The FHIR interaction (`read`, `search`, `create`, …) or operation name (`$book`). */
  readonly action: string;
  readonly resourceType: string;
  /** Ids (`abc`) or typed references (`Patient/abc`) of the resources returned or written, included ones too. */
  readonly resourceIds: readonly string[];
  /** HTTP status of the answer: 2xx, and denials (401/403) too. */
  readonly status: number;
  /** Names of the search parameters used; values may be PHI and are never kept. */
  readonly parameters?: readonly string[];
}

/** One stored audit row. */
export interface AuditEntry {
  tenantId: string;
  seq: number;
  /** ISO-8601 UTC. */
  recordedAt: string;
  clientId: string | null;
  requestId: string;
  action: string;
  resourceType: string | null;
  resourceIds: string[];
  status: number;
  parameters: string[];
}

/** Writes audit rows. Structurally an `AuditSink` (`fhir/access.ts`). */
export interface AuditTrail {
  record(ctx: AuditContext, record: AuditEventInput): Promise<void>;
}

/** Options of {@link readAuditTrail}. */
export interface ReadAuditTrailOptions {
  /** Rows with a sequence number above this; default 0 (from the start). */
  afterSeq?: number;
  /** At most this many rows; default 100, at most 1000. */
  limit?: number;
}

/** The result of {@link verifyAuditTrail}. */
export type AuditVerification =
  | { ok: true; count: number }
  | { ok: false; seq: number; reason: 'gap' | 'hash-mismatch' | 'chain-broken' | 'truncated' };

/** The table shapes live with the store's audit queries (`src/store/audit-rows.ts`). */
export type { AuditCountersTable, AuditEventsTable, AuditTables } from '../store/audit-rows.js';

const DEFAULT_READ_LIMIT = 100;
const MAX_READ_LIMIT = 1000;

/** The names of the parameters in a query (`req.query`, `URLSearchParams`, a POST `_search` form), sorted. */
export function parameterNames(query: URLSearchParams | Readonly<Record<string, unknown>>): string[] {
  const keys = query instanceof URLSearchParams ? [...query.keys()] : Object.keys(query);
  return [...new Set(keys)].sort();
}

/**
 * Creates the audit trail writing to `store` (or to the store `store()` returns, for composition roots that open
 * the store later). Records are group-committed (`src/store/group-commit.ts`): the records of concurrent requests share one
 * write transaction, and each {@link AuditTrail.record} resolves only once its row has committed, so a response
 * sent after awaiting it is never without its row, and a failed commit fails the request.
 *
 * @see https://profiles.ihe.net/ITI/BALP/ (the fields an AuditEvent export would need)
 */
export function createAuditTrail(store: Store | (() => Store)): AuditTrail {
  const storeOf = typeof store === 'function' ? store : () => store;
  // One group per store: a test (or a tool) may hand over another store later.
  const groups = new Map<Store, GroupCommit<PendingAuditEvent>>();
  const groupOf = (target: Store): GroupCommit<PendingAuditEvent> => {
    let group = groups.get(target);
    if (!group) {
      group = createGroupCommit<PendingAuditEvent>({
        eager: target.postgres !== undefined,
        // On PostgreSQL a group is one statement while this process knows each tenant's last row (`tip-append.ts`).
        commit: target.postgres
          ? createTipAppend(target)
          : async (events) => {
              await target.write((trx) => appendAuditEvents(trx, events));
            },
      });
      groups.set(target, group);
    }
    return group;
  };
  return {
    async record(ctx: AuditContext, record: AuditEventInput): Promise<void> {
      const target = storeOf();
      await groupOf(target).submit({ ctx, record, at: target.now() });
    },
  };
}

/**
 * The tenant's audit rows after `afterSeq`, oldest first.
 *
 * @see DESIGN.md section 7
 */
export async function readAuditTrail(
  store: Store,
  tenantId: string,
  options: ReadAuditTrailOptions = {},
): Promise<AuditEntry[]> {
  const limit = Math.min(Math.max(1, Math.floor(options.limit ?? DEFAULT_READ_LIMIT)), MAX_READ_LIMIT);
  const rows = await auditRows(store, tenantId, { seq: options.afterSeq ?? 0, inclusive: false }, limit);
  return rows.map(toAuditEntry);
}

/**
 * Recomputes the tenant's hash chain from the first row: every sequence number present, every hash matching its
 * row and its predecessor, and the last one matching the counter (so removing the newest rows is detected too).
 *
 * @see reliability.md section 4 ("append-only and tamper-evident")
 */
export async function verifyAuditTrail(store: Store, tenantId: string): Promise<AuditVerification> {
  let prevHash = AUDIT_GENESIS_HASH;
  let expectedSeq = 1;
  for (;;) {
    const rows = await auditRows(store, tenantId, { seq: expectedSeq, inclusive: true }, MAX_READ_LIMIT);
    for (const row of rows) {
      if (row.seq !== expectedSeq) return { ok: false, seq: expectedSeq, reason: 'gap' };
      if (row.prev_hash !== prevHash) return { ok: false, seq: row.seq, reason: 'chain-broken' };
      if (rowHash(row) !== row.hash) return { ok: false, seq: row.seq, reason: 'hash-mismatch' };
      prevHash = row.hash;
      expectedSeq += 1;
    }
    if (rows.length < MAX_READ_LIMIT) break;
  }
  const counter = await auditCounter(store, tenantId);
  const count = expectedSeq - 1;
  if ((counter?.last_seq ?? 0) !== count || (counter?.last_hash ?? AUDIT_GENESIS_HASH) !== prevHash) {
    return { ok: false, seq: count + 1, reason: 'truncated' };
  }
  return { ok: true, count };
}

/** A stored audit row as an {@link AuditEntry} (the export, `audit-export.ts`, adds the hash-chain fields). */
export function toAuditEntry(row: AuditEventsTable): AuditEntry {
  return {
    tenantId: row.tenant_id,
    seq: row.seq,
    recordedAt: row.recorded_at,
    clientId: row.client_id,
    requestId: row.request_id,
    action: row.action,
    resourceType: row.resource_type,
    resourceIds: JSON.parse(row.resource_ids) as string[],
    status: row.status,
    parameters: JSON.parse(row.parameters) as string[],
  };
}
