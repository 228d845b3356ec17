/**
 * Computed free Slots as a {@link SearchSource} (DESIGN.md section 4): each search computes, from the store alone,
 * the free slots its criteria can match (`searchSlots`), which counts the time held by bookings in flight as busy,
 * then filters, sorts and pages them by the store's own rules (`matchInMemory`, `pageOfMatches`), so they merge
 * with the stored busy Slots as if they were stored.
 *
 * Only what the criteria can match is computed:
 * - the window: starts from now plus the minimum notice to the booking horizon, narrowed to the range the `start`
 *   criteria (and any slot ids in `_id`) allow;
 * - the schedules: those named by `schedule`, `_id`, and the Schedules whose actors `practitioner` / `location`
 *   name (the same Schedule rows the store search uses);
 * - the appointment types of `service-type`;
 * - nothing at all when `status` excludes `free`.
 * A week of one practitioner is a few hundred slots; the widest search (every schedule, the whole horizon) is
 * some tens of thousands, held for one request.
 *
 * A read (`GET Slot/{id}`) recomputes the one slot its id names and answers it only while it is still free.
 */
import type { Resource, Slot } from '@medplum/fhirtypes';
import { searchSlots } from '../../src/availability/availability-service.js';
import { parseSlotId } from '../../src/availability/slot-id.js';
import type { FhirRequestContext } from '../access.js';
import { criteriaCondition } from './criteria-builder.js';
import { resolveReferenced } from './referenced-rows.js';
import {
  matchesCondition,
  virtualRow,
  type Condition,
  type ConditionField,
  type VirtualRow,
} from '../../src/store/search-condition.js';
import type { ParsedSearch, SearchCriterion } from './search-parser.js';
import {
  matchInMemory,
  pageOfMatches,
  type SearchSource,
  type SourceQuery,
  type SourceRow,
} from './search-sources.js';

export interface ComputedSlotSourceOptions {
  /** The clock slots are offered against (minimum notice, horizon); the wall clock by default. */
  now?: () => Date;
}

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/** The free slots one search may match, and its condition with referenced Schedules resolved. */
interface Computed {
  slots: Slot[];
  condition: Condition;
  /** Those that match it, kept for the sort they were keyed by: a search's page and its total share them. */
  matched?: { sort: SourceQuery['sort']; rows: SourceRow[] };
}

/**
 * The computed free-slot source; pass it as `searchSources.Slot` to `createFhirHandler`.
 *
 * @see DESIGN.md section 4
 */
export function createComputedSlotSource(options: ComputedSlotSourceOptions = {}): SearchSource {
  const clock = options.now ?? (() => new Date());
  // Free slots are kept and shared across searches (src/availability/free-time.ts, frozen), so their store rows
  // are too: indexing a slot once instead of on every search that returns it.
  const rows = new WeakMap<Resource, VirtualRow>();
  const rowOf = (resource: Resource): VirtualRow => {
    let row = rows.get(resource);
    if (!row) {
      row = virtualRow(resource);
      if (Object.isFrozen(resource)) rows.set(resource, row);
    }
    return row;
  };
  // One computation per search, shared by its page and its total (keyed by the request's parsed search).
  const computed = new WeakMap<ParsedSearch, Promise<Computed>>();
  const computeFor = (query: SourceQuery): Promise<Computed> => {
    let promise = computed.get(query.search);
    if (!promise) {
      promise = compute(query, clock());
      computed.set(query.search, promise);
    }
    return promise;
  };

  const matchesFor = async (query: SourceQuery): Promise<SourceRow[]> => {
    const computation = await computeFor(query);
    if (computation.matched?.sort !== query.sort) {
      const rows = matchInMemory(computation.slots, { ...query, condition: computation.condition }, rowOf);
      computation.matched = { sort: query.sort, rows };
    }
    return computation.matched.rows;
  };

  return {
    page: async (query) => pageOfMatches(await matchesFor(query), query),
    count: async (query) => (await matchesFor(query)).length,
    read: (ctx, id) => readSlot(ctx, id, clock()),
  };
}

async function compute(query: SourceQuery, now: Date): Promise<Computed> {
  const { ctx } = query;
  const condition = await resolveReferenced(ctx, query.condition);
  const plan = planSlotComputation(query.search.criteria, condition, {
    zone: query.zone,
    now,
    minimumNoticeMinutes: ctx.tenant.booking.minimumNoticeMinutes,
    horizonDays: ctx.tenant.booking.horizonDays,
  });
  if (!plan) return { slots: [], condition };
  const slots = await searchSlots(ctx.store, ctx.tenant, {
    from: plan.from,
    to: plan.to,
    now,
    ...(ctx.referenceData ? { reference: await ctx.referenceData() } : {}),
    ...(plan.scheduleIds ? { scheduleIds: plan.scheduleIds } : {}),
    ...(plan.serviceTypeCodes ? { serviceTypeCodes: plan.serviceTypeCodes } : {}),
    // Paged in the search's own sort order (pageOfMatches).
    unordered: true,
  });
  return { slots, condition };
}

/** What to compute for one search: starts in `[from, to)`, on these schedules, of these types (all when absent). */
export interface SlotComputationPlan {
  from: Date;
  to: Date;
  scheduleIds?: string[];
  /** In `searchSlots`' token syntax: `system|code`, `code`, `system|`. */
  serviceTypeCodes?: string[];
}

/**
 * The narrowest computation that still yields every free Slot `condition` can match; undefined when none can
 * match. `condition` must have its referenced Schedules resolved (`practitioner`, `location` → schedule ids).
 * Exported for tests: a narrow query must stay narrow.
 */
export function planSlotComputation(
  criteria: readonly SearchCriterion[],
  condition: Condition,
  rules: { zone: string; now: Date; minimumNoticeMinutes: number; horizonDays: number },
): SlotComputationPlan | undefined {
  if (criteria.some((c) => excludesFree(c, rules.zone))) return undefined;
  // From now plus the notice to the horizon, which the calculator counts in local days (a day more covers any
  // zone's DST shift; the calculator cuts the rest).
  const starts = startBounds(condition);
  let from = Math.max(rules.now.getTime() + rules.minimumNoticeMinutes * MINUTE, starts.from);
  let to = Math.min(rules.now.getTime() + (rules.horizonDays + 1) * DAY, starts.to);

  let scheduleIds = valuesOf(condition, 'ref_schedule');
  const slotIds = valuesOf(condition, 'id');
  if (slotIds) {
    const named = [...slotIds].flatMap((id) => parseSlotId(id) ?? []);
    if (named.length === 0) return undefined;
    const times = named.map((s) => s.start.getTime());
    from = Math.max(from, Math.min(...times));
    to = Math.min(to, Math.max(...times) + MINUTE);
    scheduleIds = intersect(scheduleIds, new Set(named.map((s) => s.scheduleId)));
  }
  if (!(from < to) || scheduleIds?.size === 0) return undefined;
  const serviceTypeCodes = serviceTypeFilter(criteria);
  return {
    from: new Date(from),
    to: new Date(to),
    ...(scheduleIds ? { scheduleIds: [...scheduleIds].sort() } : {}),
    ...(serviceTypeCodes ? { serviceTypeCodes } : {}),
  };
}

/** The slot `id` names, recomputed: undefined unless it is a computed slot's id and that slot is still free. */
async function readSlot(ctx: FhirRequestContext, id: string, now: Date): Promise<Resource | undefined> {
  const named = parseSlotId(id);
  if (!named) return undefined;
  const from = named.start.getTime();
  const slots = await searchSlots(ctx.store, ctx.tenant, {
    from: named.start,
    to: new Date(from + MINUTE),
    now,
    ...(ctx.referenceData ? { reference: await ctx.referenceData() } : {}),
    scheduleIds: [named.scheduleId],
  });
  return slots.find((slot) => slot.id === id);
}

/**
 * Whether a `status` criterion excludes free Slots, by what it says (modifier and values) and the zone: a fact of
 * the criterion alone, remembered because every Slot search asks it (`status=free`).
 */
const excludingFree = new Map<string, boolean>();

/** A `status` criterion no free Slot satisfies (status=busy-unavailable): nothing to compute. */
function excludesFree(criterion: SearchCriterion, zone: string): boolean {
  if (criterion.param.name !== 'status') return false;
  const key = JSON.stringify([criterion.key, criterion.modifier ?? null, criterion.values, zone]);
  let excludes = excludingFree.get(key);
  if (excludes === undefined) {
    excludes = probeExcludesFree(criterion, zone);
    if (excludingFree.size >= 1000) excludingFree.clear();
    excludingFree.set(key, excludes);
  }
  return excludes;
}

function probeExcludesFree(criterion: SearchCriterion, zone: string): boolean {
  const probe: Slot = {
    resourceType: 'Slot',
    id: 'probe',
    schedule: { reference: 'Schedule/probe' },
    status: 'free',
    start: '2000-01-01T00:00:00Z',
    end: '2000-01-01T00:01:00Z',
  };
  // The status condition reads the status column only, which every computed Slot shares with the probe.
  return !matchesCondition(virtualRow(probe), criteriaCondition([criterion], zone));
}

/**
 * The appointment types a plain `service-type` criterion asks for, in `searchSlots`' token syntax; undefined when
 * none does (several are all applied by the condition afterwards, so narrowing by the first is enough).
 */
function serviceTypeFilter(criteria: readonly SearchCriterion[]): string[] | undefined {
  for (const criterion of criteria) {
    if (criterion.param.name !== 'service-type' || criterion.modifier !== undefined) continue;
    const codes = criterion.values.flatMap((v) => {
      if (v.kind !== 'token') return [];
      const { system, code } = v.token;
      // `|code` (no system) and codes holding a `|` are left to the condition alone.
      if (system === '' || system?.includes('|') || code?.includes('|')) return ['unnarrowable'];
      return [system === undefined ? (code ?? '') : `${system}|${code ?? ''}`];
    });
    if (codes.length > 0 && !codes.includes('unnarrowable')) return codes;
  }
  return undefined;
}

/**
 * The values `field` must take for `condition` to hold, when the condition says so: an equality or `in` on it,
 * or an `and` with such a part, or an `or` of such parts. Undefined when it does not constrain the field.
 */
function valuesOf(condition: Condition, field: ConditionField): Set<string> | undefined {
  switch (condition.op) {
    case 'in':
      return condition.field === field ? new Set(condition.values) : undefined;
    case 'compare':
      return condition.field === field && condition.comparison === '='
        ? new Set([condition.value])
        : undefined;
    case 'false':
      return new Set();
    case 'and':
      return condition.parts.reduce<Set<string> | undefined>(
        (set, part) => intersect(set, valuesOf(part, field)),
        undefined,
      );
    case 'or': {
      const sets = condition.parts.map((part) => valuesOf(part, field));
      if (sets.some((s) => s === undefined)) return undefined;
      return new Set(sets.flatMap((s) => [...(s ?? [])]));
    }
    case 'true':
    case 'not':
    case 'is-null':
    case 'starts-with':
    case 'ends-with':
    case 'contains':
    case 'token':
    case 'json-contains':
    case 'scan':
    case 'referenced':
      return undefined;
  }
}

/**
 * A range `[from, to)` of epoch milliseconds holding every `period_start` (a Slot's start) for which `condition`
 * can hold: comparisons bound it, `and` intersects, `or` spans its parts, anything else leaves it open.
 */
function startBounds(condition: Condition): { from: number; to: number } {
  const open = { from: -Infinity, to: Infinity };
  switch (condition.op) {
    case 'compare': {
      if (condition.field !== 'period_start') return open;
      const at = Date.parse(condition.value);
      if (Number.isNaN(at)) return open;
      switch (condition.comparison) {
        case '=':
          return { from: at, to: at + 1 };
        case '>':
          return { from: at + 1, to: Infinity };
        case '>=':
          return { from: at, to: Infinity };
        case '<':
          return { from: -Infinity, to: at };
        case '<=':
          return { from: -Infinity, to: at + 1 };
      }
      return open;
    }
    case 'false':
      return { from: 0, to: 0 };
    case 'and':
      return condition.parts
        .map(startBounds)
        .reduce((a, b) => ({ from: Math.max(a.from, b.from), to: Math.min(a.to, b.to) }), open);
    case 'or': {
      const parts = condition.parts.map(startBounds).filter((b) => b.from < b.to);
      if (parts.length === 0) return { from: 0, to: 0 };
      return {
        from: Math.min(...parts.map((b) => b.from)),
        to: Math.max(...parts.map((b) => b.to)),
      };
    }
    case 'true':
    case 'not':
    case 'in':
    case 'is-null':
    case 'starts-with':
    case 'ends-with':
    case 'contains':
    case 'token':
    case 'json-contains':
    case 'scan':
    case 'referenced':
      return open;
  }
}

function intersect(a: Set<string> | undefined, b: Set<string> | undefined): Set<string> | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return new Set([...a].filter((v) => b.has(v)));
}
