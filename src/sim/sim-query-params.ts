/**
 * Reading query parameters of the simulated records system's search calls (DESIGN.md section 2).
 * A bad value answers 400 `invalid_request` naming the parameter, never a silently ignored filter: a sync engine
 * that sends a malformed `modifiedSince` must find out, not receive everything or nothing.
 */
import { isWallTime } from '../wall-time.js';
import { invalidRequest, notFound } from './sim-http-error.js';
import { normaliseWallTime } from './sim-wall-time-order.js';

/** The parsed query string as express hands it over (`string | string[]` values with the simple parser). */
export type SimQuery = Record<string, unknown>;

/** The parameter's single non-empty value; an empty value counts as absent, a repeated one is rejected. */
export function optionalString(query: SimQuery, name: string): string | undefined {
  const value = query[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalidRequest(name, `${name} must be given once`);
  return value === '' ? undefined : value;
}

/** A positive whole number (ids, page numbers). */
export function optionalPositiveInt(query: SimQuery, name: string): number | undefined {
  const raw = optionalString(query, name);
  if (raw === undefined) return undefined;
  const value = /^\d{1,15}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw invalidRequest(name, `${name} must be a positive whole number`);
  }
  return value;
}

/** A wall time (`YYYY-MM-DDTHH:mm` or `…:ss`), returned padded to seconds so it compares with stored values. */
export function optionalWallTime(query: SimQuery, name: string): string | undefined {
  const raw = optionalString(query, name);
  if (raw === undefined) return undefined;
  if (!isWallTime(raw)) {
    throw invalidRequest(name, `${name} must be a practice-local wall time like 2026-11-24T00:00`);
  }
  return normaliseWallTime(raw);
}

/** True when `value` is a real calendar date `YYYY-MM-DD`. */
export function isCalendarDate(value: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(value) && isWallTime(`${value}T00:00`);
}

/** A calendar date `YYYY-MM-DD`. */
export function optionalDate(query: SimQuery, name: string): string | undefined {
  const raw = optionalString(query, name);
  if (raw === undefined) return undefined;
  if (!isCalendarDate(raw)) throw invalidRequest(name, `${name} must be a date like 1980-04-17`);
  return raw;
}

/** The numeric id in a path (`/patients/{id}`); anything else names no record, so it is a 404. */
export function recordIdParam(raw: unknown): number {
  const id = typeof raw === 'string' && /^\d{1,15}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(id) || id < 1) throw notFound();
  return id;
}
