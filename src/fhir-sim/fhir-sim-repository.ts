/**
 * Medplum's `MemoryRepository` with a quicker search, for the FHIR simulator's demo practice (15,000 appointments).
 * `MemoryRepository.search` evaluates every search parameter by FHIRPath on every resource of the type, deep-copies
 * every match before paging, and sorts by re-evaluating FHIRPath in each comparison: about 300 ms for one day of
 * appointments on an idle machine, over a second on a loaded one — past the connector's timeout in the fault
 * campaign, whose breaker then opened for whole runs.
 *
 * Same answers, cheaper: a search bounding `Appointment.start` (`date`) or `Slot.start` (`start`) with `ge`/`gt`/
 * `lt`/`le` first drops the resources whose start lies two days or more outside those bounds (a cheap superset:
 * the exact test, `matchesSearchRequest`, still decides for every resource left); sort keys are evaluated once per
 * match; only the page returned is copied. Everything else is `MemoryRepository`'s.
 */
import {
  deepClone,
  evalFhirPath,
  globalSchema,
  matchesSearchRequest,
  type SearchRequest,
  type SortRule,
} from '@medplum/core';
import { MemoryRepository } from '@medplum/fhir-router';
import type { Bundle, Resource } from '@medplum/fhirtypes';

/** Search parameters whose value is the resource's `start`, by resource type. */
const START_PARAMS: Readonly<Record<string, string>> = { Appointment: 'date', Slot: 'start' };
/** Wider than any zone offset or date precision a bound can carry. */
const MARGIN_MS = 2 * 86_400_000;

type Stored = Resource & { start?: string };

export class FhirSimRepository extends MemoryRepository {
  override async search<T extends Resource>(request: SearchRequest<T>): Promise<Bundle<T & { id: string }>> {
    const bounds = startBounds(request);
    if (!bounds) return super.search(request);
    const all = (this as unknown as { resources: Map<string, Map<string, Stored>> }).resources.get(
      request.resourceType,
    );
    const matches: Stored[] = [];
    for (const resource of all?.values() ?? []) {
      if (mayStartWithin(resource, bounds) && matchesSearchRequest(resource, request)) matches.push(resource);
    }
    let sorted = matches;
    for (const rule of request.sortRules ?? []) sorted = sortedBy(sorted, rule);
    const from = request.offset ?? 0;
    const page = sorted.slice(from, request.count === undefined ? undefined : from + request.count);
    return {
      resourceType: 'Bundle',
      type: 'searchset',
      entry: page.length
        ? page.map((resource) => ({ resource: deepClone(resource) as T & { id: string } }))
        : undefined,
      total: matches.length,
    };
  }
}

interface Bounds {
  from: number;
  to: number;
}

/** The instants outside which no resource can match the search's bounds on its start; undefined when unbounded. */
function startBounds(request: SearchRequest): Bounds | undefined {
  const code = START_PARAMS[request.resourceType];
  let from = -Infinity;
  let to = Infinity;
  for (const filter of request.filters ?? []) {
    if (filter.code !== code) continue;
    const at = Date.parse(filter.value.replace(/^(ge|gt|le|lt)/, ''));
    if (Number.isNaN(at)) continue;
    if (filter.operator === 'ge' || filter.operator === 'gt') from = Math.max(from, at - MARGIN_MS);
    if (filter.operator === 'le' || filter.operator === 'lt') to = Math.min(to, at + MARGIN_MS);
  }
  return from === -Infinity && to === Infinity ? undefined : { from, to };
}

/** False only when the resource has a start and it lies outside `bounds`. */
function mayStartWithin(resource: Stored, bounds: Bounds): boolean {
  const start = resource.start === undefined ? NaN : Date.parse(resource.start);
  return Number.isNaN(start) || (start >= bounds.from && start <= bounds.to);
}

/** `MemoryRepository`'s order for one rule (the JSON of the parameter's values, compared as text), keys computed once. */
function sortedBy(resources: Stored[], rule: SortRule): Stored[] {
  const expression =
    globalSchema.types[resources[0]?.resourceType ?? '']?.searchParams?.[rule.code]?.expression;
  if (!expression) return resources;
  const keyed = resources.map((resource) => ({
    resource,
    key: JSON.stringify(evalFhirPath(expression, resource)),
  }));
  keyed.sort((a, b) => a.key.localeCompare(b.key) * (rule.descending ? -1 : 1));
  return keyed.map((k) => k.resource);
}
