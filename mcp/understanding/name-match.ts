/**
 * How alike two people's names are, as a caller says them and a records system spells them: case, accents,
 * hyphens and spaces do not count; a nickname is the same given name; one slip of the tongue or keyboard (an
 * edit, or two letters swapped — Damerau-Levenshtein) is a typo; more is a different name.
 */
import { areNicknames } from './nicknames.js';

export type NameLikeness = 'same' | 'nickname' | 'typo' | 'initial' | 'different';

/** `José-Luis  O'Brien` → `joseluisobrien`: lower case, accents and everything but letters and digits gone. */
export function normaliseName(name: string): string {
  return name
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '');
}

/** The optimal-string-alignment distance (an adjacent swap counts as one edit). */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) =>
    Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const row = d[i] as number[];
      const above = d[i - 1] as number[];
      let best = Math.min(
        (above[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (above[j - 1] as number) + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, ((d[i - 2] as number[])[j - 2] as number) + 1);
      }
      row[j] = best;
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}

/** Edits a name of this length may differ by and still be taken for a typo. */
function typoBudget(length: number): number {
  return length <= 3 ? 0 : length <= 7 ? 1 : 2;
}

function likeness(said: string, recorded: string, nicknames: boolean): NameLikeness {
  const a = normaliseName(said);
  const b = normaliseName(recorded);
  if (a === '' || b === '') return 'different';
  if (a === b) return 'same';
  if (nicknames && areNicknames(a, b)) return 'nickname';
  if (editDistance(a, b) <= typoBudget(Math.max(a.length, b.length))) return 'typo';
  if (a.length === 1 && b.startsWith(a)) return 'initial';
  return 'different';
}

/** How a given name as said compares with one on record (any of the record's given names). */
export function givenLikeness(said: string, recorded: readonly string[]): NameLikeness {
  return best(recorded.map((r) => likeness(said, r, true)));
}

/** How a family name as said compares with the one on record. */
export function familyLikeness(said: string, recorded: string): NameLikeness {
  const result = likeness(said, recorded, false);
  return result === 'initial' ? 'different' : result;
}

const ORDER: readonly NameLikeness[] = ['same', 'nickname', 'typo', 'initial', 'different'];

function best(results: readonly NameLikeness[]): NameLikeness {
  return results.reduce<NameLikeness>((a, b) => (ORDER.indexOf(a) <= ORDER.indexOf(b) ? a : b), 'different');
}
