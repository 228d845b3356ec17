import { describe, expect, it } from 'vitest';
import { SEARCH_SPECS, searchSpecOf } from '../../../src/store/search-parameters/search-specs.js';
import { SUPPORTED_RESOURCES } from '../../../fhir/resources/supported-resources.js';

/** Token-held targets: the index must write what these read. */
const TOKEN_KINDS = new Set(['token', 'text', 'date-token', 'reference-token']);

describe('the search-parameter spec', () => {
  it('gives every parameter read from search tokens an extractor that writes them', () => {
    const missing = SEARCH_SPECS.flatMap((spec) =>
      spec.parameters
        .filter((p) => TOKEN_KINDS.has(p.target.kind) && p.tokens === undefined)
        .map((p) => `${spec.resourceType}.${p.name}`),
    );
    expect(missing).toEqual([]);
  });

  it('indexes the tokens a parameter of another type reads through a reference', () => {
    const unwritten = SEARCH_SPECS.flatMap((spec) =>
      spec.parameters.flatMap((p) => {
        if (p.target.kind !== 'referenced-reference') return [];
        const { resourceType, param } = p.target;
        const referenced = searchSpecOf(resourceType);
        const writes = referenced?.parameters.some(
          (q) => q.tokens !== undefined && 'param' in q.target && q.target.param === param,
        );
        return writes ? [] : [`${spec.resourceType}.${p.name} → ${resourceType}.${param}`];
      }),
    );
    expect(unwritten).toEqual([]);
  });

  it('is what the facade serves: each served type searches exactly its spec parameters', () => {
    for (const definition of SUPPORTED_RESOURCES) {
      expect(definition.searchParams, definition.type).toBe(searchSpecOf(definition.type)?.parameters);
    }
  });

  it('declares each parameter and indexed token name once per type', () => {
    for (const spec of SEARCH_SPECS) {
      const names = [...spec.parameters.map((p) => p.name), ...spec.indexedTokens.map((t) => t.name)];
      expect(new Set(names).size, spec.resourceType).toBe(names.length);
    }
  });
});
