import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

// DESIGN.md section 1: src/ imports neither fhir/ nor sync/ (except the composition root and the CLI);
// fhir/ and sync/ never import each other. Issue 13: nothing but src/app.ts and src/main.ts imports mcp/, and mcp/
// never imports sync/, and of fhir/ only the handler entry. The eslint rule says the same; this test is what CI
// cannot skip.
const root = resolve(import.meta.dirname, '../..');
const rules: Record<string, { forbidden: string[]; exempt?: string[] }> = {
  src: { forbidden: ['fhir', 'sync', 'mcp'], exempt: ['src/app.ts', 'src/main.ts'] },
  fhir: { forbidden: ['sync', 'mcp'] },
  sync: { forbidden: ['fhir', 'mcp'] },
  mcp: { forbidden: ['sync'] },
};

/** DESIGN.md section 1: of fhir/, mcp/ may import the FHIR facade's transport-independent handler entry only. */
const MCP_FHIR_ENTRY = 'fhir/fhir-request.js';

/**
 * The files that may speak express: the FHIR router, its HTTP middleware, the MCP endpoint's mount, the app, the
 * operator's pages and HTTP metrics (issue 15), and the simulators.
 */
const HTTP_EDGE = [
  'fhir/fhir-router.ts',
  'fhir/auth-middleware.ts',
  'fhir/request-limits.ts',
  'mcp/mcp-http-route.ts',
  'src/app.ts',
  'src/main.ts',
  'src/operator/operator-routes.ts',
  'src/operator/http-metrics.ts',
];
const isHttpEdge = (file: string): boolean =>
  HTTP_EDGE.includes(file) || file.startsWith('src/sim/') || file.startsWith('src/fhir-sim/');

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

describe('import direction between src/, fhir/, sync/ and mcp/', () => {
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

  it(`mcp/ imports of fhir/ are the handler entry (${MCP_FHIR_ENTRY}) only`, () => {
    const offenders = tsFiles(join(root, 'mcp')).flatMap((file) =>
      importedPaths(file)
        .filter((path) => path.startsWith('fhir/') && path !== MCP_FHIR_ENTRY)
        .map((path) => `${relative(root, file).split(sep).join('/')} → ${path}`),
    );
    expect(offenders).toEqual([]);
  });

  // Issue 9 item 8: FHIR handlers are transport-free; express stays at the HTTP edge.
  it('only fhir/fhir-router.ts and the HTTP edge import express', () => {
    const offenders = ['src', 'fhir', 'sync', 'mcp']
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
    expect(importedPaths(join(root, 'mcp/tools/x.ts'), source)).toEqual([
      'fhir/a.js',
      'sync/b.js',
      'mcp/tools/c.js',
      'fhir/d.js',
    ]);
    expect(
      importedPaths(join(root, 'mcp/x.ts'), "import type { FhirRequest } from '../fhir/fhir-request.js';"),
    ).toEqual([MCP_FHIR_ENTRY]);
    expect(importsExpress("import type { Request } from 'express';")).toBe(true);
    expect(importsExpress("const e = await import('express');")).toBe(true);
    expect(importsExpress("import { x } from './express-like.js';")).toBe(false);
  });
});

/** Repo-relative paths of the relative imports of `file` (`src/store/schema.ts`, …). */
function importedPaths(file: string, source = readFileSync(file, 'utf8')): string[] {
  return [
    ...source.matchAll(/(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g),
  ]
    .map((m) => m[1] ?? m[2] ?? '')
    .filter((s) => s.startsWith('.'))
    .map((s) =>
      relative(root, resolve(file, '..', s))
        .split(/[\\/]/)
        .join('/'),
    );
}

/** The `src/` folder a path is in (`store` for `src/store/x.ts`); undefined for leaf modules directly in `src/`. */
function srcFolderOf(path: string): string | undefined {
  const parts = path.split('/');
  return parts[0] === 'src' && parts.length > 2 ? parts[1] : undefined;
}

describe('the store is the bottom layer (issue 9)', () => {
  it('src/store/ imports no other src/ folder (leaf modules directly in src/ are fine)', () => {
    const offenders = tsFiles(join(root, 'src/store')).flatMap((file) =>
      importedPaths(file)
        .filter((path) => path.split('/')[0] !== 'src' || !['store', undefined].includes(srcFolderOf(path)))
        .map((path) => `${relative(root, file)} → ${path}`),
    );
    expect(offenders).toEqual([]);
  });

  it("only src/events/ writes journal rows (the store's writers), so no write skips the webhook outbox", () => {
    const writers = /\b(writeChanges|writeChangesInTransaction|insertJournalEntries)\b/;
    const offenders = ['src', 'fhir', 'sync', 'mcp']
      .flatMap((folder) => tsFiles(join(root, folder)))
      .map((file) => relative(root, file).split(/[\\/]/).join('/'))
      .filter((path) => !path.startsWith('src/store/') && !path.startsWith('src/events/'))
      .filter((path) => writers.test(readFileSync(join(root, path), 'utf8')));
    expect(offenders).toEqual([]);
  });

  it('sees a store file importing another src/ folder (the check itself works)', () => {
    const source = [
      "import { a } from '../webhooks/a.js';",
      "import type { B } from '../config.js';",
      "import { c } from './c.js';",
    ].join('\n');
    const paths = importedPaths(join(root, 'src/store/x.ts'), source);
    expect(paths).toEqual(['src/webhooks/a.js', 'src/config.js', 'src/store/c.js']);
    expect(paths.map(srcFolderOf)).toEqual(['webhooks', undefined, 'store']);
  });
});

// Issue 12: the FHIR records-system simulator stands in for someone else's server. It may reuse the proprietary
// simulator's parts (fault model, tokens, rate limit, the demo practice) and the wall-time helpers, but nothing of
// Switchboard itself, or it could quietly agree with the connector it is meant to test.
describe('the FHIR records-system simulator knows nothing of Switchboard', () => {
  it('src/fhir-sim/ imports only src/fhir-sim/, src/sim/ and src/wall-time.ts', () => {
    const offenders = tsFiles(join(root, 'src/fhir-sim')).flatMap((file) =>
      importedPaths(file)
        .filter((path) => !/^src\/(fhir-sim|sim)\//.test(path) && path !== 'src/wall-time.js')
        .map((path) => `${relative(root, file)} → ${path}`),
    );
    expect(offenders).toEqual([]);
  });
});

/** The sub-folders of src/connectors/ (one per concrete connector) that `file` imports from. */
function importedConnectorKinds(file: string, source = readFileSync(file, 'utf8')): string[] {
  return importedPaths(file, source)
    .map((path) => path.split('/'))
    .filter((parts) => parts[0] === 'src' && parts[1] === 'connectors' && parts.length > 3)
    .map((parts) => parts[2] ?? '');
}

// DESIGN.md section 1: core code talks to a records system only through the connector port (issue 9 item 8); the
// factory is the one place that knows the concrete connectors. A connector's own folder may import itself.
describe('concrete connectors stay behind the connector port', () => {
  it('only src/connectors/create-connector.ts imports a concrete connector (src/connectors/<kind>/)', () => {
    const connectors = join(root, 'src/connectors');
    const kinds = readdirSync(connectors).filter((name) => statSync(join(connectors, name)).isDirectory());
    expect(kinds).toContain('sim');
    expect(kinds).toContain('fhir');
    const offenders = ['src', 'fhir', 'sync', 'mcp']
      .flatMap((folder) => tsFiles(join(root, folder)))
      .map((file) => relative(root, file).split(/[\\/]/).join('/'))
      .filter((file) => file !== 'src/connectors/create-connector.ts')
      .flatMap((file) =>
        importedConnectorKinds(join(root, file))
          .filter((kind) => kinds.includes(kind) && !file.startsWith(`src/connectors/${kind}/`))
          .map((kind) => `${file} → src/connectors/${kind}/`),
      );
    expect(offenders).toEqual([]);
  });

  it('sees static, type-only, re-exported and dynamic imports of a concrete connector (the check itself works)', () => {
    const source = [
      "import { formatCorrelationMarker } from '../connectors/sim/sim-fhir-context.js';",
      "import type { SimConnector } from '../connectors/sim/sim-connector.js';",
      "export { x } from '../connectors/other/x.js';",
      "const y = await import('../connectors/sim/y.js');",
      "import type { Connector } from '../connectors/connector.js';",
      "import { bulkhead } from 'cockatiel';",
    ].join('\n');
    expect(importedConnectorKinds(join(root, 'src/booking/x.ts'), source)).toEqual([
      'sim',
      'sim',
      'other',
      'sim',
    ]);
  });
});
