import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// DESIGN.md section 8: no SQL outside src/store/. The facade, the engine's loops and every src/ folder ask the
// store's functions; they never build a query themselves.
const root = resolve(import.meta.dirname, '../..');

/** Where SQL lives: not checked. */
const exempt = ['src/store'];

/** fhir/, sync/, mcp/, and every folder and leaf module of src/ but src/store/. */
const checked = [
  'fhir',
  'sync',
  'mcp',
  ...readdirSync(join(root, 'src'))
    .map((name) => `src/${name}`)
    .filter((path) => !exempt.includes(path)),
];

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
  if (!statSync(dir).isDirectory()) return dir.endsWith('.ts') ? [dir] : [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? tsFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

function queryBuildingIn(source: string): string[] {
  return QUERY_BUILDING.filter((pattern) => pattern.test(source)).map((pattern) => pattern.source);
}

describe('no SQL outside src/store/', () => {
  for (const folder of checked) {
    it(`${folder} builds no queries and imports no kysely`, () => {
      const offenders = tsFiles(join(root, folder)).flatMap((file) =>
        queryBuildingIn(readFileSync(file, 'utf8')).map((found) => `${relative(root, file)}: ${found}`),
      );
      expect(offenders).toEqual([]);
    });
  }

  it('checks every folder but src/store, src/booking included', () => {
    expect(checked).toEqual(
      expect.arrayContaining([
        'fhir',
        'sync',
        'mcp',
        'src/booking',
        'src/webhooks',
        'src/audit',
        'src/app.ts',
      ]),
    );
    expect(checked.filter((path) => path.startsWith('src/store'))).toEqual([]);
  });

  it('sees query builders, raw SQL and kysely imports (the check itself works)', () => {
    expect(queryBuildingIn("await store.db.selectFrom('resources').selectAll().execute();")).toHaveLength(1);
    expect(queryBuildingIn("await trx.deleteFrom('booking_claims').execute();")).toHaveLength(1);
    expect(queryBuildingIn('const q = sql<{ n: number }>`select 1`;')).toHaveLength(1);
    expect(queryBuildingIn("import { sql } from 'kysely';")).toHaveLength(1);
    expect(queryBuildingIn("import { searchPageRows } from '../../src/store/search-query.js';")).toEqual([]);
  });
});
