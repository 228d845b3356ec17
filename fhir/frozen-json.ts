/**
 * JSON text of a response body that reuses the text of the frozen resources in it (issue 16: serializing a Slot
 * search's Bundle was a tenth of its CPU). Free Slots are kept across searches and shared frozen
 * (src/availability/free-time.ts), as are reference-data resources, both through `deepFreeze` (src/deep-freeze.ts),
 * which knows them to be frozen all the way down: their text cannot change and is written once per object (a changed
 * resource is a new object with text of its own). Everything else, shallowly frozen objects included, is written
 * afresh on every call.
 *
 * The result is exactly `JSON.stringify(value)`.
 */

import { isDeeplyFrozen } from '../src/deep-freeze.js';

/** Text of frozen objects already written; an entry goes when its object does. */
const fragments = new WeakMap<object, string>();
/** Levels walked by hand (Bundle → entry list → entry → resource); anything deeper goes to `JSON.stringify` whole. */
const WALKED_LEVELS = 3;

export function stringifyReusingFrozen(value: unknown): string {
  return write(value, 0) ?? 'null';
}

function write(value: unknown, level: number): string | undefined {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (isDeeplyFrozen(value) && isPlain(value)) {
    let text = fragments.get(value);
    if (text === undefined) {
      text = JSON.stringify(value);
      fragments.set(value, text);
    }
    return text;
  }
  if (level >= WALKED_LEVELS || !isPlain(value)) return JSON.stringify(value);
  let out: string;
  if (Array.isArray(value)) {
    out = '[';
    for (let i = 0; i < value.length; i++)
      out += `${i === 0 ? '' : ','}${write(value[i], level + 1) ?? 'null'}`;
    return `${out}]`;
  }
  out = '{';
  for (const key in value) {
    if (!Object.prototype.hasOwnProperty.call(value, key)) continue;
    const text = write((value as Record<string, unknown>)[key], level + 1);
    if (text !== undefined) out += `${out.length === 1 ? '' : ','}${keyText(key)}:${text}`;
  }
  return `${out}}`;
}

/** Member names as JSON text; a Bundle repeats a handful of them. */
const keyTexts = new Map<string, string>();
function keyText(key: string): string {
  let text = keyTexts.get(key);
  if (text === undefined) {
    text = JSON.stringify(key);
    if (keyTexts.size < 1000) keyTexts.set(key, text);
  }
  return text;
}

/** A plain object or array without `toJSON`: one whose JSON is its own enumerable members. */
function isPlain(value: object): boolean {
  const prototype = Object.getPrototypeOf(value) as unknown;
  if (prototype !== Object.prototype && prototype !== null && prototype !== Array.prototype) return false;
  return typeof (value as { toJSON?: unknown }).toJSON !== 'function';
}
