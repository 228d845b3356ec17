/**
 * Reading fields of a JSON write body (patients, appointments, cancel). Each rejection is a 400
 * `invalid_request` naming the field, the way the records system tells a front-desk integration what it got wrong.
 * Unknown properties are ignored, so a client may PUT back what it read (with `id`, `createdAt`, …).
 */
import { invalidRequest } from './sim-http-error.js';

/** A parsed JSON object body. */
export type SimBody = Record<string, unknown>;

/** The body as a JSON object; a missing body reads as `{}` so that field checks name what is missing. */
export function asBody(body: unknown): SimBody {
  if (body === undefined) return {};
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw invalidRequest('body', 'the body must be a JSON object');
  }
  return body as SimBody;
}

/** A present, non-blank string (trimmed). */
export function requiredString(body: SimBody, name: string, maxLength = 200): string {
  const value = body[name];
  if (value === undefined || value === null) throw invalidRequest(name, `${name} is required`);
  if (typeof value !== 'string' || value.trim() === '') {
    throw invalidRequest(name, `${name} must be a non-empty string`);
  }
  if (value.length > maxLength) throw invalidRequest(name, `${name} is longer than ${maxLength} characters`);
  return value.trim();
}

/** `undefined` when absent, `null` when null or blank, else the string. */
export function optionalNullableString(
  body: SimBody,
  name: string,
  maxLength = 2000,
): string | null | undefined {
  const value = body[name];
  if (value === undefined) return undefined;
  if (value === null) return null;
  if (typeof value !== 'string') throw invalidRequest(name, `${name} must be a string or null`);
  if (value.length > maxLength) throw invalidRequest(name, `${name} is longer than ${maxLength} characters`);
  return value.trim() === '' ? null : value;
}

/** A present positive whole number (ids are numbers on the wire, never numeric strings). */
export function requiredPositiveInt(body: SimBody, name: string): number {
  const value = body[name];
  if (value === undefined || value === null) throw invalidRequest(name, `${name} is required`);
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw invalidRequest(name, `${name} must be a positive whole number`);
  }
  return value;
}
