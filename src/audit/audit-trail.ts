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
import { createHash } from 'node:crypto';
import {
  auditCounter,
  auditRows,
  insertAuditRows,
  takeAuditSeqs,
  type AuditEventsTable,
} from '../store/audit-rows.js';
import type { Store, StoreTransaction } from '../store/database.js';
import { createGroupCommit, type GroupCommit } from './group-commit.js';

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

/** The `prev_hash` of a tenant's first row. */
export const AUDIT_GENESIS_HASH = '0'.repeat(64);

const DEFAULT_READ_LIMIT = 100;
const MAX_READ_LIMIT = 1000;

// Every stored field has a shape that cannot carry free text: a name, a date or a phone number does not fit.
const ACTION = /^\$?[a-z][a-z0-9-]{0,63}$/;
const RESOURCE_TYPE = /^[A-Z][A-Za-z]{0,63}$/;
/** FHIR id (https://hl7.org/fhir/R4/datatypes.html#id), optionally prefixed with its type. */
const RESOURCE_ID = /^(?:[A-Z][A-Za-z]{0,63}\/)?[A-Za-z0-9\-.]{1,64}$/;
/** A search parameter name with optional modifier or chain: `_count`, `name:exact`, `patient.identifier`. */
const PARAMETER_NAME = /^[A-Za-z_][A-Za-z0-9_\-.:]{0,99}$/;
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const CLIENT_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The names of the parameters in a query (`req.query`, `URLSearchParams`, a POST `_search` form), sorted. */
export function parameterNames(query: URLSearchParams | Readonly<Record<string, unknown>>): string[] {
  const keys = query instanceof URLSearchParams ? [...query.keys()] : Object.keys(query);
  return [...new Set(keys)].sort();
}

/**
 * Creates the audit trail writing to `store` (or to the store `store()` returns, for composition roots that open
 * the store later). Records are group-committed (`group-commit.ts`): the records of concurrent requests share one
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
        commit: async (events) => {
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

/** A record waiting for its group's transaction, stamped with the time of the access. */
export interface PendingAuditEvent {
  ctx: AuditContext;
  record: AuditEventInput;
  at: Date;
}

/**
 * Appends audit rows, in order, inside an open write transaction: per tenant, one counter update for all of its
 * rows, one multi-row insert, and the chain continued row by row. Returns each row's sequence number.
 */
export async function appendAuditEvents(
  trx: StoreTransaction,
  events: readonly PendingAuditEvent[],
): Promise<number[]> {
  const seqs = new Array<number>(events.length);
  const byTenant = new Map<string, number[]>();
  events.forEach((event, index) => {
    const indexes = byTenant.get(event.ctx.tenant.id) ?? [];
    indexes.push(index);
    byTenant.set(event.ctx.tenant.id, indexes);
  });
  for (const [tenantId, indexes] of byTenant) {
    const counter = await takeAuditSeqs(trx, tenantId, AUDIT_GENESIS_HASH, indexes.length);
    let seq = counter.last_seq - indexes.length;
    let prevHash = counter.last_hash;
    const rows = indexes.map((index) => {
      const event = events[index] as PendingAuditEvent;
      seq += 1;
      seqs[index] = seq;
      const row = auditRow(event.ctx, event.record, seq, event.at, prevHash);
      prevHash = row.hash;
      return row;
    });
    await insertAuditRows(trx, rows);
  }
  return seqs;
}

/**
 * Appends one audit row inside an open write transaction (for writes that should commit together with their
 * audit row). Returns the row's sequence number.
 */
export async function appendAuditEvent(
  trx: StoreTransaction,
  ctx: AuditContext,
  record: AuditEventInput,
  now: Date,
): Promise<number> {
  const [seq] = await appendAuditEvents(trx, [{ ctx, record, at: now }]);
  return seq as number;
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

function auditRow(
  ctx: AuditContext,
  record: AuditEventInput,
  seq: number,
  now: Date,
  prevHash: string,
): AuditEventsTable {
  const clientId = ctx.client?.id;
  const content: Omit<AuditEventsTable, 'hash'> = {
    tenant_id: ctx.tenant.id,
    seq,
    recorded_at: now.toISOString(),
    client_id: clientId === undefined ? null : fitting(clientId, CLIENT_ID, 'invalid'),
    request_id: fitting(ctx.requestId, REQUEST_ID, 'invalid'),
    action: fitting(record.action, ACTION, 'unknown'),
    resource_type: RESOURCE_TYPE.test(record.resourceType) ? record.resourceType : null,
    resource_ids: JSON.stringify(record.resourceIds.filter((id) => RESOURCE_ID.test(id))),
    status: Number.isInteger(record.status) ? record.status : 0,
    parameters: JSON.stringify(safeParameterNames(record.parameters ?? [])),
    prev_hash: prevHash,
  };
  return { ...content, hash: rowHash(content) };
}

/** Keeps only what can be a parameter name: anything after `=` is dropped, anything else odd is left out. */
function safeParameterNames(parameters: readonly string[]): string[] {
  const names = parameters.map((p) => p.split('=', 1)[0] ?? '').filter((name) => PARAMETER_NAME.test(name));
  return [...new Set(names)];
}

function fitting(value: string, shape: RegExp, otherwise: string): string {
  return shape.test(value) ? value : otherwise;
}

function rowHash(row: Omit<AuditEventsTable, 'hash'>): string {
  const canonical = JSON.stringify([
    row.prev_hash,
    row.tenant_id,
    row.seq,
    row.recorded_at,
    row.client_id,
    row.request_id,
    row.action,
    row.resource_type,
    row.resource_ids,
    row.status,
    row.parameters,
  ]);
  return createHash('sha256').update(canonical).digest('hex');
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
