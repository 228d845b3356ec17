/**
 * `_summary` and `_elements` (https://hl7.org/fhir/R4/search.html#summary): return part of each resource, marked
 * with the `SUBSETTED` tag. Mandatory elements are always kept, so a subset is still a valid resource.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { ResourceDefinition } from '../resources/resource-definition.js';
import type { SummaryMode } from './search-parser.js';

export const SUBSETTED_TAG = {
  system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue',
  code: 'SUBSETTED',
} as const;

/** Elements every subset keeps. */
const ALWAYS = ['resourceType', 'id', 'meta', 'implicitRules'];

export interface ElementSelection {
  summary: SummaryMode | undefined;
  elements: readonly string[] | undefined;
}

/** `resource` as the selection asks for it (the resource itself when nothing is to be left out). */
export function selectElements(
  resource: Resource,
  definition: ResourceDefinition | undefined,
  selection: ElementSelection,
): Resource {
  const mandatory = definition?.mandatoryElements ?? [];
  let keep: ((name: string) => boolean) | undefined;
  switch (selection.summary) {
    case 'true':
      keep = (name) => (definition?.summaryElements ?? []).includes(name) || mandatory.includes(name);
      break;
    case 'text':
      keep = (name) => name === 'text' || mandatory.includes(name);
      break;
    case 'data':
      keep = (name) => name !== 'text';
      break;
    case 'count':
    case 'false':
    case undefined:
      if (selection.elements)
        keep = (name) => (selection.elements ?? []).includes(name) || mandatory.includes(name);
      break;
  }
  if (!keep) return resource;
  const shaped: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(resource)) {
    if (ALWAYS.includes(name) || keep(name)) shaped[name] = value;
  }
  const meta = resource.meta ?? {};
  const tags = meta.tag ?? [];
  shaped.meta = {
    ...meta,
    tag: tags.some((t) => t.system === SUBSETTED_TAG.system && t.code === SUBSETTED_TAG.code)
      ? tags
      : [...tags, { ...SUBSETTED_TAG }],
  };
  return shaped as unknown as Resource;
}
