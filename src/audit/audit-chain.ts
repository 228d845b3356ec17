/**
 * How audit rows are made and chained (DESIGN.md section 7; reliability.md section 4): every field checked against a
 * strict shape (so no PHI value fits), rows numbered per tenant without gaps, and `hash` = SHA-256 of the previous
 * row's hash and this row's content. {@link appendAuditEvents} appends under the tenant's counter row lock, inside a
 * write transaction; `tip-append.ts` appends without one when this process knows the tenant's last row
 * (PostgreSQL). Both build their rows with {@link chainedRows}, so a row's hash is computed in this file only.
 */
import { createHash } from 'node:crypto';
import { insertAuditRows, takeAuditSeqs, type AuditEventsTable } from '../store/audit-rows.js';
import type { StoreTransaction } from '../store/database.js';
import type { AuditContext, AuditEventInput } from './audit-trail.js';

/** The `prev_hash` of a tenant's first row. */
export const AUDIT_GENESIS_HASH = '0'.repeat(64);

/** A record waiting for its group's transaction, stamped with the time of the access. */
export interface PendingAuditEvent {
  ctx: AuditContext;
  record: AuditEventInput;
  at: Date;
}

/** A tenant's last row: its counter as the row left it. */
export interface AuditTip {
  seq: number;
  hash: string;
}

// Every stored field has a shape that cannot carry free text: a name, a date or a phone number does not fit.
const ACTION = /^\$?[a-z][a-z0-9-]{0,63}$/;
const RESOURCE_TYPE = /^[A-Z][A-Za-z]{0,63}$/;
/** FHIR id (https://hl7.org/fhir/R4/datatypes.html#id), optionally prefixed with its type. */
const RESOURCE_ID = /^(?:[A-Z][A-Za-z]{0,63}\/)?[A-Za-z0-9\-.]{1,64}$/;
/** A search parameter name with optional modifier or chain: `_count`, `name:exact`, `patient.identifier`. */
const PARAMETER_NAME = /^[A-Za-z_][A-Za-z0-9_\-.:]{0,99}$/;
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const CLIENT_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The indexes of `events` by tenant, in submission order. */
export function eventsByTenant(events: readonly PendingAuditEvent[]): Map<string, number[]> {
  const byTenant = new Map<string, number[]>();
  events.forEach((event, index) => {
    const indexes = byTenant.get(event.ctx.tenant.id) ?? [];
    indexes.push(index);
    byTenant.set(event.ctx.tenant.id, indexes);
  });
  return byTenant;
}

/** The rows of one tenant's `events`, numbered and chained on from `tip`. */
export function chainedRows(events: readonly PendingAuditEvent[], tip: AuditTip): AuditEventsTable[] {
  let seq = tip.seq;
  let prevHash = tip.hash;
  return events.map((event) => {
    seq += 1;
    const row = auditRow(event.ctx, event.record, seq, event.at, prevHash);
    prevHash = row.hash;
    return row;
  });
}

/**
 * Appends audit rows, in order, inside an open write transaction: per tenant, one counter update for all of its
 * rows (taking the tenant's counter row lock), one multi-row insert, and the chain continued row by row. Returns
 * each row's sequence number, and each tenant's new last row.
 */
export async function appendAuditEvents(
  trx: StoreTransaction,
  events: readonly PendingAuditEvent[],
): Promise<{ seqs: number[]; tips: Map<string, AuditTip> }> {
  const seqs = new Array<number>(events.length);
  const tips = new Map<string, AuditTip>();
  for (const [tenantId, indexes] of eventsByTenant(events)) {
    const counter = await takeAuditSeqs(trx, tenantId, AUDIT_GENESIS_HASH, indexes.length);
    const before = { seq: counter.last_seq - indexes.length, hash: counter.last_hash };
    const rows = chainedRows(
      indexes.map((index) => events[index] as PendingAuditEvent),
      before,
    );
    rows.forEach((row, i) => (seqs[indexes[i] as number] = row.seq));
    await insertAuditRows(trx, rows);
    const last = rows[rows.length - 1] as AuditEventsTable;
    tips.set(tenantId, { seq: last.seq, hash: last.hash });
  }
  return { seqs, tips };
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

/** The hash of a row's content and its predecessor's hash (`verifyAuditTrail` recomputes it). */
export function rowHash(row: Omit<AuditEventsTable, 'hash'>): string {
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
  const { seqs } = await appendAuditEvents(trx, [{ ctx, record, at: now }]);
  return seqs[0] as number;
}
