import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

// DESIGN.md section 1: src/ imports neither fhir/ nor sync/ (except the composition root and the CLI);
// fhir/ and sync/ never import each other. The eslint rule says the same; this test is what CI cannot skip.
const root = resolve(import.meta.dirname, '../..');
const rules: Record<string, { forbidden: string[]; exempt?: string[] }> = {
  src: { forbidden: ['fhir', 'sync'], exempt: ['src/app.ts', 'src/main.ts'] },
  fhir: { forbidden: ['sync'] },
  sync: { forbidden: ['fhir'] },
};

/** The files that may speak express: the FHIR router, its HTTP middleware, the app and the simulator. */
const HTTP_EDGE = [
  'fhir/fhir-router.ts',
  'fhir/auth-middleware.ts',
  'fhir/request-limits.ts',
  'src/app.ts',
  'src/main.ts',
];
const isHttpEdge = (file: string): boolean => HTTP_EDGE.includes(file) || file.startsWith('src/sim/');

function importsExpress(source: string): boolean {
  return /(?:import|export)[^'"]*?from\s+['"]express['"]|import\(\s*['"]express['"]\s*\)/.test(source);
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? tsFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

function importedTopFolders(file: string, source = readFileSync(file, 'utf8')): string[] {
  const specifiers = [
    ...source.matchAll(/(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g),
  ]
    .map((m) => m[1] ?? m[2] ?? '')
    .filter((s) => s.startsWith('.'));
  return specifiers.map((s) => relative(root, resolve(file, '..', s)).split(/[\\/]/)[0] ?? '');
}

describe('import direction between src/, fhir/ and sync/', () => {
  for (const [folder, rule] of Object.entries(rules)) {
    it(`${folder}/ imports none of ${rule.forbidden.join(', ')}/`, () => {
      const offenders = tsFiles(join(root, folder))
        .filter((file) => !rule.exempt?.includes(relative(root, file)))
        .flatMap((file) =>
          importedTopFolders(file)
            .filter((top) => rule.forbidden.includes(top))
            .map((top) => `${relative(root, file)} → ${top}/`),
        );
      expect(offenders).toEqual([]);
    });
  }

  // Issue 9 item 8: FHIR handlers are transport-free; express stays at the HTTP edge.
  it('only fhir/fhir-router.ts and the HTTP edge import express', () => {
    const offenders = ['src', 'fhir', 'sync']
      .flatMap((folder) => tsFiles(join(root, folder)))
      .map((file) => relative(root, file).split(sep).join('/'))
      .filter((file) => !isHttpEdge(file) && importsExpress(readFileSync(join(root, file), 'utf8')));
    expect(offenders).toEqual([]);
  });

  it('sees static, type-only, re-exported and dynamic imports (the check itself works)', () => {
    const source = [
      "import { a } from '../../fhir/a.js';",
      "import type { B } from '../../sync/b.js';",
      "export { c } from './c.js';",
      "const d = await import('../../fhir/d.js');",
    ].join('\n');
    expect(importedTopFolders(join(root, 'src/store/x.ts'), source)).toEqual(['fhir', 'sync', 'src', 'fhir']);
    expect(importsExpress("import type { Request } from 'express';")).toBe(true);
    expect(importsExpress("const e = await import('express');")).toBe(true);
    expect(importsExpress("import { x } from './express-like.js';")).toBe(false);
  });
});
