import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// DESIGN.md section 8: no SQL outside src/store/. The facade, the engine's loops and availability ask the store's
// functions; they never build a query themselves.
const root = resolve(import.meta.dirname, '../..');
const checkedFolders = ['fhir', 'sync', 'src/availability'];

/** Kysely query building and raw SQL, and importing kysely at all (its types included). */
const QUERY_BUILDING = [
  /\.selectFrom\(/,
  /\.insertInto\(/,
  /\.updateTable\(/,
  /\.deleteFrom\(/,
  /\.replaceInto\(/,
  /\bsql\s*(<[^>]*>)?`/,
  /\bfrom\s+['"]kysely['"]/,
];

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? tsFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

function queryBuildingIn(source: string): string[] {
  return QUERY_BUILDING.filter((pattern) => pattern.test(source)).map((pattern) => pattern.source);
}

describe('no SQL outside src/store/', () => {
  for (const folder of checkedFolders) {
    it(`${folder}/ builds no queries and imports no kysely`, () => {
      const offenders = tsFiles(join(root, folder)).flatMap((file) =>
        queryBuildingIn(readFileSync(file, 'utf8')).map((found) => `${relative(root, file)}: ${found}`),
      );
      expect(offenders).toEqual([]);
    });
  }

  it('sees query builders, raw SQL and kysely imports (the check itself works)', () => {
    expect(queryBuildingIn("await store.db.selectFrom('resources').selectAll().execute();")).toHaveLength(1);
    expect(queryBuildingIn("await trx.deleteFrom('booking_claims').execute();")).toHaveLength(1);
    expect(queryBuildingIn('const q = sql<{ n: number }>`select 1`;')).toHaveLength(1);
    expect(queryBuildingIn("import { sql } from 'kysely';")).toHaveLength(1);
    expect(queryBuildingIn("import { searchPageRows } from '../../src/store/search-query.js';")).toEqual([]);
  });
});
