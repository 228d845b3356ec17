/**
 * Reads a search request's parameters (https://hl7.org/fhir/R4/search.html) into a {@link ParsedSearch}: the
 * criteria (a repeated parameter is AND, a comma inside a value is OR), and the result parameters `_count`,
 * `_sort`, `_summary`, `_elements`, `_total`, `_include`, `_revinclude` and the paging cursor.
 *
 * Unknown parameters are ignored (and named in a warning) unless the client sent `Prefer: handling=strict`, which
 * turns them into a 400. Malformed values of known parameters, unsupported modifiers and prefixes are always a 400
 * whose issue `expression` names the parameter.
 */
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import type {
  IncludeDefinition,
  ParamTarget,
  ResourceDefinition,
  RevIncludeDefinition,
  SearchParamDefinition,
  SortedBy,
} from '../resources/resource-definition.js';
import { searchParamOf } from '../resources/resource-definition.js';
import { hasApproximatePrefix, parseDateSearchValue, type DateSearchValue } from './date-search.js';
import { invalidParameter, tooCostly, unsupportedParameter } from './search-errors.js';
import { DEFAULT_PAGE_SIZE, MAX_CRITERIA, MAX_PAGE_SIZE, MAX_VALUES_PER_PARAMETER } from './search-limits.js';
import {
  parseReferenceValue,
  parseTokenValue,
  splitUnescaped,
  unescapeValue,
  type ReferenceValue,
  type TokenValue,
} from './search-values.js';

/** One alternative of a criterion. */
export type CriterionValue =
  | { kind: 'missing'; missing: boolean }
  | { kind: 'token'; token: TokenValue }
  | { kind: 'string'; text: string }
  | { kind: 'date'; date: DateSearchValue }
  | { kind: 'reference'; reference: ReferenceValue };

/** One search parameter occurrence: its alternatives are OR-ed; criteria are AND-ed. */
export interface SearchCriterion {
  /** As written, modifier included: `name:exact`. */
  key: string;
  param: SearchParamDefinition;
  modifier: string | undefined;
  values: CriterionValue[];
}

export type SummaryMode = 'true' | 'text' | 'data' | 'count' | 'false';
export type TotalMode = 'none' | 'estimate' | 'accurate';

export interface IncludeRequest {
  include: IncludeDefinition;
  /** `Appointment:actor:Practitioner` narrows the target types to one. */
  targetType: string | undefined;
}

export interface ParsedSearch {
  definition: ResourceDefinition;
  criteria: SearchCriterion[];
  /** Page size; 0 asks for the total only. */
  count: number;
  sort: SortedBy[];
  summary: SummaryMode | undefined;
  elements: string[] | undefined;
  total: TotalMode;
  includes: IncludeRequest[];
  revIncludes: RevIncludeDefinition[];
  /** The opaque paging cursor, when this is not the first page. */
  cursor: string | undefined;
  /** The parameters applied, in request order, for the Bundle's links (cursor excluded). */
  linkParams: Array<[string, string]>;
  /** Ignored parameters and clamped values, for an OperationOutcome entry in the Bundle. */
  warnings: OperationOutcomeIssue[];
  /** Names of the parameters used (never values), for the audit trail. */
  parameterNames: string[];
  /** True when some date value has no zone and must be read in the practice zone. */
  needsZone: boolean;
}

export interface ParseOptions {
  /** `Prefer: handling=strict`: unknown parameters are errors, not warnings. */
  strict: boolean;
}

/** Parameters every request may carry that do not change what a search matches. */
const FORMAT_PARAMS = new Set(['_format', '_pretty']);
const SINGLE_RESULT_PARAMS = new Set(['_count', '_sort', '_summary', '_elements', '_total', '_cursor']);
const ELEMENT_NAME = /^[a-z][A-Za-z0-9]*$/;

/** Parses `params` (name/value pairs in request order) for a search of `definition`'s type. */
export function parseSearch(
  definition: ResourceDefinition,
  params: ReadonlyArray<readonly [string, string]>,
  options: ParseOptions,
): ParsedSearch {
  const parsed: ParsedSearch = {
    definition,
    criteria: [],
    count: DEFAULT_PAGE_SIZE,
    sort: [...definition.defaultSort],
    summary: undefined,
    elements: undefined,
    total: 'accurate',
    includes: [],
    revIncludes: [],
    cursor: undefined,
    linkParams: [],
    warnings: [],
    parameterNames: [],
    needsZone: false,
  };
  const seen = new Set<string>();
  const ignore = (name: string, why: string, error: () => Error): void => {
    if (options.strict) throw error();
    parsed.warnings.push({
      severity: 'warning',
      code: 'not-supported',
      diagnostics: `${why}; ignored`,
      expression: [name],
    });
  };

  for (const [name, value] of params) {
    if (FORMAT_PARAMS.has(name)) {
      parsed.linkParams.push([name, value]);
      continue;
    }
    if (SINGLE_RESULT_PARAMS.has(name)) {
      if (seen.has(name)) throw invalidParameter(name, `${name} may be given only once`);
      seen.add(name);
    }
    switch (name) {
      case '_count':
        readCount(parsed, value);
        break;
      case '_sort':
        readSort(parsed, value, ignore);
        break;
      case '_summary':
        if (!['true', 'text', 'data', 'count', 'false'].includes(value))
          throw invalidParameter(name, '_summary must be one of true, text, data, count, false');
        parsed.summary = value as SummaryMode;
        parsed.linkParams.push([name, value]);
        break;
      case '_elements':
        readElements(parsed, value);
        break;
      case '_total':
        if (!['none', 'estimate', 'accurate'].includes(value))
          throw invalidParameter(name, '_total must be one of none, estimate, accurate');
        parsed.total = value as TotalMode;
        parsed.linkParams.push([name, value]);
        break;
      case '_include':
        readInclude(parsed, value, ignore);
        break;
      case '_revinclude':
        readRevInclude(parsed, value, ignore);
        break;
      case '_cursor':
        parsed.cursor = value;
        break;
      default:
        readCriterion(parsed, name, value, ignore);
    }
    if (!parsed.parameterNames.includes(name)) parsed.parameterNames.push(name);
  }

  if (parsed.criteria.length > MAX_CRITERIA)
    throw tooCostly(
      parsed.criteria[MAX_CRITERIA]?.key ?? '',
      `at most ${MAX_CRITERIA} search parameters per search`,
    );
  if (parsed.elements && parsed.summary !== undefined && parsed.summary !== 'false') {
    parsed.warnings.push({
      severity: 'warning',
      code: 'not-supported',
      diagnostics: '_elements cannot be combined with _summary; _summary applied and _elements ignored',
      expression: ['_elements'],
    });
    parsed.elements = undefined;
    parsed.linkParams = parsed.linkParams.filter(([n]) => n !== '_elements');
  }
  return parsed;
}

function readCount(parsed: ParsedSearch, value: string): void {
  if (!/^\d{1,9}$/.test(value)) throw invalidParameter('_count', '_count must be a non-negative integer');
  const requested = Number(value);
  parsed.count = Math.min(requested, MAX_PAGE_SIZE);
  if (requested > MAX_PAGE_SIZE) {
    parsed.warnings.push({
      severity: 'warning',
      code: 'informational',
      diagnostics: `_count=${requested} exceeds the maximum page size ${MAX_PAGE_SIZE}; pages hold ${MAX_PAGE_SIZE} resources, follow the next link for more`,
      expression: ['_count'],
    });
  }
  parsed.linkParams.push(['_count', String(parsed.count)]);
}

type Ignore = (name: string, why: string, error: () => Error) => void;

function readSort(parsed: ParsedSearch, value: string, ignore: Ignore): void {
  const items = value.split(',').map((s) => s.trim());
  if (items.some((s) => s === '' || s === '-')) throw invalidParameter('_sort', '_sort has an empty item');
  const sort: SortedBy[] = [];
  const applied: string[] = [];
  for (const item of items) {
    const descending = item.startsWith('-');
    const name = descending ? item.slice(1) : item;
    const definition = parsed.definition.sorts.find((s) => s.name === name);
    if (!definition) {
      const supported = parsed.definition.sorts.map((s) => s.name).join(', ');
      ignore('_sort', `cannot sort ${parsed.definition.type} by ${name} (supported: ${supported})`, () =>
        unsupportedParameter(
          '_sort',
          `cannot sort ${parsed.definition.type} by ${name}; supported: ${supported}`,
        ),
      );
      continue;
    }
    sort.push({ sort: definition, descending });
    applied.push(item);
  }
  if (sort.length > 0) {
    parsed.sort = sort;
    parsed.linkParams.push(['_sort', applied.join(',')]);
  }
}

function readElements(parsed: ParsedSearch, value: string): void {
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const bad = names.find((n) => !ELEMENT_NAME.test(n));
  if (names.length === 0 || bad !== undefined)
    throw invalidParameter(
      '_elements',
      `_elements must list top-level element names${bad ? `: ${bad}` : ''}`,
    );
  parsed.elements = names;
  parsed.linkParams.push(['_elements', names.join(',')]);
}

function readInclude(parsed: ParsedSearch, value: string, ignore: Ignore): void {
  const parts = value.split(':');
  const [sourceType, paramName, targetType] = parts;
  if (value === '*' || paramName === '*')
    throw unsupportedParameter('_include', 'wildcard _include is not supported; name each path');
  if (parts.length < 2 || parts.length > 3 || !sourceType || !paramName)
    throw invalidParameter('_include', '_include must be SourceType:parameter[:TargetType]');
  const include =
    sourceType === parsed.definition.type
      ? parsed.definition.includes.find((i) => i.name === paramName)
      : undefined;
  if (!include || (targetType !== undefined && !include.targetTypes.includes(targetType as never))) {
    const supported = parsed.definition.includes.map((i) => `${parsed.definition.type}:${i.name}`);
    ignore(
      '_include',
      `_include=${value} is not supported (supported: ${supported.join(', ') || 'none'})`,
      () =>
        unsupportedParameter(
          '_include',
          `_include=${value} is not supported; supported: ${supported.join(', ') || 'none'}`,
        ),
    );
    return;
  }
  if (!parsed.includes.some((i) => i.include === include && i.targetType === targetType))
    parsed.includes.push({ include, targetType });
  parsed.linkParams.push(['_include', value]);
}

function readRevInclude(parsed: ParsedSearch, value: string, ignore: Ignore): void {
  const parts = value.split(':');
  if (value === '*' || parts[1] === '*')
    throw unsupportedParameter('_revinclude', 'wildcard _revinclude is not supported; name each path');
  if (parts.length !== 2 || !parts[0] || !parts[1])
    throw invalidParameter('_revinclude', '_revinclude must be SourceType:parameter');
  const revInclude = parsed.definition.revIncludes.find(
    (r) => r.sourceType === parts[0] && r.param === parts[1],
  );
  if (!revInclude) {
    const supported = parsed.definition.revIncludes.map((r) => `${r.sourceType}:${r.param}`);
    ignore(
      '_revinclude',
      `_revinclude=${value} is not supported (supported: ${supported.join(', ') || 'none'})`,
      () =>
        unsupportedParameter(
          '_revinclude',
          `_revinclude=${value} is not supported; supported: ${supported.join(', ') || 'none'}`,
        ),
    );
    return;
  }
  if (!parsed.revIncludes.includes(revInclude)) parsed.revIncludes.push(revInclude);
  parsed.linkParams.push(['_revinclude', value]);
}

function readCriterion(parsed: ParsedSearch, key: string, raw: string, ignore: Ignore): void {
  if (
    key === '_include:iterate' ||
    key === '_revinclude:iterate' ||
    key.startsWith('_include:') ||
    key.startsWith('_revinclude:')
  )
    throw unsupportedParameter(key, `${key} is not supported: includes do not iterate`);
  const colon = key.indexOf(':');
  const name = colon < 0 ? key : key.slice(0, colon);
  const modifier = colon < 0 ? undefined : key.slice(colon + 1);
  const param = searchParamOf(parsed.definition, name);
  if (!param) {
    const why = name.includes('.')
      ? `chained parameter ${key} is not supported`
      : `${parsed.definition.type} has no search parameter ${name}`;
    ignore(key, why, () => unsupportedParameter(key, why));
    return;
  }
  if (raw === '') {
    ignore(key, `${key} has no value`, () => invalidParameter(key, `${key} has no value`));
    return;
  }
  checkModifier(param, key, modifier);
  const values: CriterionValue[] = [];
  if (modifier === 'missing') {
    if (raw !== 'true' && raw !== 'false') throw invalidParameter(key, `${key} must be true or false`);
    values.push({ kind: 'missing', missing: raw === 'true' });
  } else {
    const alternatives = splitUnescaped(raw, ',');
    if (alternatives.length > MAX_VALUES_PER_PARAMETER)
      throw tooCostly(key, `at most ${MAX_VALUES_PER_PARAMETER} comma-separated values per parameter`);
    for (const alternative of alternatives) {
      const value = parseValue(param, key, alternative);
      if (value.kind === 'date' && !value.date.zoned) parsed.needsZone = true;
      values.push(value);
    }
  }
  parsed.criteria.push({ key, param, modifier, values });
  parsed.linkParams.push([key, raw]);
}

/** Modifiers each kind of target supports. */
function modifiersOf(target: ParamTarget): readonly string[] {
  switch (target.kind) {
    case 'id':
      return ['not'];
    case 'token':
    case 'column-token':
      return ['not', 'missing'];
    case 'text':
    case 'scan-text':
      return ['exact', 'contains', 'missing'];
    case 'instant':
    case 'period':
    case 'date-token':
    case 'reference-token':
    case 'reference-column':
      return ['missing'];
    case 'reference-json':
    case 'referenced-reference':
      return [];
  }
}

function checkModifier(param: SearchParamDefinition, key: string, modifier: string | undefined): void {
  if (modifier === undefined) return;
  if (modifiersOf(param.target).includes(modifier)) return;
  if (param.type === 'reference' && param.targetTypes?.includes(modifier as never)) return;
  const supported = [
    ...modifiersOf(param.target),
    ...(param.type === 'reference' && (param.targetTypes?.length ?? 0) > 1 ? (param.targetTypes ?? []) : []),
  ];
  throw unsupportedParameter(
    key,
    `modifier :${modifier} is not supported on ${param.name}${supported.length ? ` (supported: ${supported.map((m) => `:${m}`).join(' ')})` : ''}`,
  );
}

function parseValue(param: SearchParamDefinition, key: string, raw: string): CriterionValue {
  switch (param.type) {
    case 'token': {
      const token = parseTokenValue(raw);
      if (!token) throw invalidParameter(key, `${key} needs a code, system|code, |code or system|`);
      const target = param.target;
      if (target.kind === 'column-token' && target.codes && token.code !== undefined) {
        if (!target.codes.includes(token.code))
          throw invalidParameter(key, `${key} must be one of ${target.codes.join(', ')}`);
      }
      return { kind: 'token', token };
    }
    case 'string': {
      const text = unescapeValue(raw).trim();
      if (text === '') throw invalidParameter(key, `${key} needs some text`);
      return { kind: 'string', text };
    }
    case 'date': {
      if (hasApproximatePrefix(raw))
        throw unsupportedParameter(key, 'the ap (approximately) prefix is not supported');
      const date = parseDateSearchValue(raw);
      if (!date)
        throw invalidParameter(
          key,
          `${key} must be [eq|ne|gt|lt|ge|le|sa|eb]YYYY[-MM[-DD[Thh:mm[:ss[.sss]][Z|±hh:mm]]]]`,
        );
      return { kind: 'date', date };
    }
    case 'reference': {
      const reference = parseReferenceValue(raw);
      if (!reference) throw invalidParameter(key, `${key} must be Type/id or an id`);
      return { kind: 'reference', reference };
    }
  }
}
