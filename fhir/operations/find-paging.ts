/**
 * Paging of `$find` (IHE ITI-115: "the server SHALL honour _count", "the client SHALL support pagination";
 * R4 search: a paging server SHALL use Bundle.link `next`). Proposals are ordered by start, then id, and a page
 * continues strictly after the last proposal of the previous one: the cursor is that proposal's (start, id),
 * not an offset, so a proposal booked meanwhile never shifts the next page.
 */
import type { Appointment } from '@medplum/fhirtypes';
import { FhirError } from '../operation-outcome.js';

export interface FindCursor {
  startMs: number;
  id: string;
}

/** Earliest first; the same start by id. */
export function sortProposals(proposals: Appointment[]): Appointment[] {
  return proposals
    .map((p) => ({ p, key: cursorAt(p) }))
    .sort((a, b) => a.key.startMs - b.key.startMs || compareIds(a.key.id, b.key.id))
    .map(({ p }) => p);
}

export function cursorAt(proposal: Appointment): FindCursor {
  return { startMs: Date.parse(proposal.start ?? ''), id: proposal.id ?? '' };
}

export function isAfter(proposal: Appointment, cursor: FindCursor): boolean {
  const key = cursorAt(proposal);
  return (
    key.startMs > cursor.startMs || (key.startMs === cursor.startMs && compareIds(key.id, cursor.id) > 0)
  );
}

export function formatCursor(cursor: FindCursor): string {
  return Buffer.from(`${cursor.startMs}:${cursor.id}`, 'utf8').toString('base64url');
}

/** The `_cursor` of a paging link, if any; 400 for one this server did not make. */
export function cursorOf(raw: ReadonlyMap<string, readonly string[]>): FindCursor | undefined {
  const value = raw.get('_cursor')?.[0];
  if (value === undefined) return undefined;
  const match = /^(\d{1,15}):([A-Za-z0-9\-.]{1,64})$/.exec(Buffer.from(value, 'base64url').toString('utf8'));
  if (!match) {
    throw FhirError.of(400, 'invalid', '_cursor is not a paging cursor of this server', {
      expression: '_cursor',
    });
  }
  return { startMs: Number(match[1]), id: match[2] as string };
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
