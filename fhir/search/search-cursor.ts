/**
 * Keyset paging cursors. A page link carries the sort key and id of the row it continues from, never an offset,
 * so rows inserted or removed elsewhere in the result while a client pages neither repeat nor skip the rows that
 * were there when it started. The cursor is opaque to clients: base64url of a small JSON document.
 */
import { invalidParameter } from './search-errors.js';

/** A position in a sorted result: continue after (next page) or before (previous page) this row. */
export interface PagePosition {
  direction: 'after' | 'before';
  /** The row's sort key values, one per sort expression. */
  key: string[];
  id: string;
}

interface CursorDocument {
  /** Format version. */
  v: 1;
  /** Signature of the sort the key belongs to. */
  s: string;
  d: 'a' | 'b';
  k: string[];
  i: string;
}

/** Encodes `position` for the sort with signature `sortSignature`. */
export function encodeCursor(position: PagePosition, sortSignature: string): string {
  const doc: CursorDocument = {
    v: 1,
    s: sortSignature,
    d: position.direction === 'after' ? 'a' : 'b',
    k: position.key,
    i: position.id,
  };
  return Buffer.from(JSON.stringify(doc), 'utf8').toString('base64url');
}

/** Decodes a cursor; a 400 on `parameter` when it is malformed or belongs to another sort order. */
export function decodeCursor(cursor: string, sortSignature: string, parameter = '_cursor'): PagePosition {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidParameter(parameter, 'the paging cursor is not valid; follow the links of a Bundle');
  }
  if (!isCursorDocument(doc))
    throw invalidParameter(parameter, 'the paging cursor is not valid; follow the links of a Bundle');
  if (doc.s !== sortSignature)
    throw invalidParameter(parameter, 'the paging cursor belongs to another sort order');
  return { direction: doc.d === 'a' ? 'after' : 'before', key: doc.k, id: doc.i };
}

function isCursorDocument(doc: unknown): doc is CursorDocument {
  if (typeof doc !== 'object' || doc === null) return false;
  const d = doc as Record<string, unknown>;
  return (
    d.v === 1 &&
    typeof d.s === 'string' &&
    (d.d === 'a' || d.d === 'b') &&
    Array.isArray(d.k) &&
    d.k.every((k) => typeof k === 'string') &&
    typeof d.i === 'string'
  );
}
