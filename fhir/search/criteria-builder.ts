/**
 * Turns parsed criteria into one {@link Condition} over the store's row shape: each parameter's target (see
 * `ParamTarget`) says which column, token rows or JSON text it reads, and how search values are normalised the
 * way the search-parameter spec's extractors normalised the stored ones (`src/store/search-parameters/`).
 */
import type { Resource } from '@medplum/fhirtypes';
import { foldPhrase } from '../../src/store/search-parameters/token-values.js';
import type {
  ParamTarget,
  SearchParamDefinition,
  TokenNormaliser,
} from '../resources/resource-definition.js';
import { dateCondition, instantRange, type DateTarget } from './date-search.js';
import type { CriterionValue, SearchCriterion } from './search-parser.js';
import {
  and,
  compare,
  FALSE,
  not,
  or,
  token,
  TRUE,
  type Condition,
} from '../../src/store/search-condition.js';
import type { ReferenceValue, TokenValue } from './search-values.js';

/** The condition all `criteria` impose together; dates without a zone are read in `zone`. */
export function criteriaCondition(criteria: readonly SearchCriterion[], zone: string): Condition {
  return and(criteria.map((c) => criterionCondition(c, zone)));
}

function criterionCondition(criterion: SearchCriterion, zone: string): Condition {
  const { param, modifier } = criterion;
  const alternatives = or(criterion.values.map((v) => valueCondition(param, modifier, v, zone)));
  // :not matches resources that have none of the codes (including those with no code at all).
  return modifier === 'not' ? not(alternatives) : alternatives;
}

function valueCondition(
  param: SearchParamDefinition,
  modifier: string | undefined,
  value: CriterionValue,
  zone: string,
): Condition {
  const target = param.target;
  if (value.kind === 'missing')
    return value.missing ? missing(param.name, target) : not(missing(param.name, target));
  switch (target.kind) {
    case 'id':
      return value.kind === 'token' && value.token.system === undefined && value.token.code !== undefined
        ? compare('id', '=', value.token.code)
        : FALSE;
    case 'token':
      return value.kind === 'token'
        ? tokenRowsCondition(target.param, target.normalise, target.implicitSystem, value.token)
        : FALSE;
    case 'column-token':
      if (value.kind !== 'token') return FALSE;
      return columnTokenCondition(target, value.token);
    case 'text':
      return value.kind === 'string' ? textCondition(target.param, modifier, value.text) : FALSE;
    case 'scan-text':
      return value.kind === 'string'
        ? scanTextCondition(param.name, target.extract, modifier, value.text)
        : FALSE;
    case 'instant':
    case 'period':
    case 'date-token': {
      if (value.kind !== 'date') return FALSE;
      const dateTarget: DateTarget = target;
      // Calendar dates have no zone: their day boundaries are UTC midnights, and so are the search value's.
      const range = instantRange(value.date, target.kind === 'date-token' ? 'UTC' : zone);
      return dateCondition(value.date.prefix, range, dateTarget);
    }
    case 'reference-token':
    case 'reference-column':
    case 'reference-json':
    case 'referenced-reference':
      return value.kind === 'reference' ? referenceCondition(param, modifier, value.reference) : FALSE;
  }
}

/** The resource has no value for the parameter. */
function missing(parameter: string, target: ParamTarget): Condition {
  switch (target.kind) {
    case 'id':
      return FALSE;
    case 'token':
    case 'text':
    case 'date-token':
    case 'reference-token':
      return not(token(target.param, TRUE));
    case 'column-token':
    case 'instant':
    case 'reference-column':
      return { op: 'is-null', field: target.column };
    case 'period':
      return and([
        { op: 'is-null', field: target.start },
        { op: 'is-null', field: target.end },
      ]);
    case 'scan-text': {
      const extract = target.extract;
      return { op: 'scan', parameter, test: (resource: Resource) => extract(resource).length === 0 };
    }
    case 'reference-json':
    case 'referenced-reference':
      return FALSE;
  }
}

/** Normalises a searched code as the store normalised the stored one. */
function normalise(code: string, normaliser: TokenNormaliser): string {
  switch (normaliser) {
    case 'none':
      return code;
    case 'phone':
      return code.replace(/\D/g, '');
    case 'email':
      return code.toLowerCase();
    case 'telecom':
      if (code.includes('@')) return code.toLowerCase();
      return /^[\d\s()+.-]+$/.test(code) ? code.replace(/\D/g, '') : code;
  }
}

/**
 * Token rows hold `system|code` and `code` for codings with a system, `code` alone for those without. Contact
 * points (phone, email, telecom) have no system in their rows: a searched system is ignored for them.
 */
function tokenRowsCondition(
  param: string,
  normaliser: TokenNormaliser,
  implicitSystem: string | undefined,
  value: TokenValue,
): Condition {
  if (normaliser !== 'none') {
    if (value.code === undefined) return token(param, TRUE);
    const code = normalise(value.code, normaliser);
    return code === '' ? FALSE : token(param, compare('value', '=', code));
  }
  if (implicitSystem !== undefined) {
    // Every stored code has this one system (administrative gender); the rows hold the bare code.
    if (value.system !== undefined && value.system !== implicitSystem) return FALSE;
    return value.code === undefined ? token(param, TRUE) : token(param, compare('value', '=', value.code));
  }
  const { system, code } = value;
  if (code === undefined) return token(param, { op: 'starts-with', field: 'value', value: `${system}|` });
  if (system === undefined) return token(param, compare('value', '=', code));
  if (system === '') {
    // `|code`: the code without a system, i.e. no row `anything|code` beside the bare `code`.
    return and([
      token(param, compare('value', '=', code)),
      not(token(param, { op: 'ends-with', field: 'value', value: `|${code}` })),
    ]);
  }
  return token(param, compare('value', '=', `${system}|${code}`));
}

function columnTokenCondition(
  target: Extract<ParamTarget, { kind: 'column-token' }>,
  value: TokenValue,
): Condition {
  const systemMatches =
    value.system === undefined ||
    (target.system === undefined ? value.system === '' : value.system === target.system);
  if (!systemMatches) return FALSE;
  if (value.code === undefined) return not({ op: 'is-null', field: target.column });
  const stored = target.toStored ? target.toStored(value.code) : value.code;
  return stored === undefined ? FALSE : compare(target.column, '=', stored);
}

/**
 * Default: every word of the search text is the start of some token (`jose nun` finds José Núñez); `:contains`:
 * every word occurs inside some token; `:exact`: the whole text equals a token and appears, with its exact case
 * and accents, as a JSON string of the resource.
 */
function textCondition(param: string, modifier: string | undefined, text: string): Condition {
  const folded = foldPhrase(text);
  if (folded === '') return FALSE;
  if (modifier === 'exact') {
    return and([
      token(param, compare('value', '=', folded)),
      { op: 'json-contains', text: JSON.stringify(text) },
    ]);
  }
  const op = modifier === 'contains' ? 'contains' : 'starts-with';
  return and(folded.split(' ').map((word) => token(param, { op, field: 'value', value: word })));
}

/** As {@link textCondition}, over texts the store has no tokens for, folded here. */
function scanTextCondition(
  parameter: string,
  extract: (resource: Resource) => string[],
  modifier: string | undefined,
  text: string,
): Condition {
  const folded = foldPhrase(text);
  const words = folded.split(' ');
  return {
    op: 'scan',
    parameter,
    test: (resource) => {
      const texts = extract(resource);
      if (modifier === 'exact') return texts.includes(text);
      const forms = texts.flatMap((t) => {
        const whole = foldPhrase(t);
        return [whole, ...whole.split(/[^\p{L}\p{N}]+/u).filter((w) => w !== '')];
      });
      return words.every((word) =>
        forms.some((form) => (modifier === 'contains' ? form.includes(word) : form.startsWith(word))),
      );
    },
  };
}

/** `Type/id` keys a reference value may mean: one, or one per allowed type for a bare id. */
function referenceKeys(
  param: SearchParamDefinition,
  modifier: string | undefined,
  reference: ReferenceValue,
): string[] {
  const allowed = (param.targetTypes ?? []).filter(
    (t) => modifier === undefined || modifier === 'missing' || t === modifier,
  );
  const types = reference.type === undefined ? allowed : allowed.filter((t) => t === reference.type);
  return types.map((type) => `${type}/${reference.id}`);
}

function referenceCondition(
  param: SearchParamDefinition,
  modifier: string | undefined,
  reference: ReferenceValue,
): Condition {
  const keys = referenceKeys(param, modifier, reference);
  if (keys.length === 0) return FALSE;
  const target = param.target;
  switch (target.kind) {
    case 'reference-token':
      return token(target.param, { op: 'in', field: 'value', values: keys });
    case 'reference-column':
      // The column holds the id of the one target type.
      return compare(target.column, '=', reference.id);
    case 'reference-json':
      return or(keys.map((key) => ({ op: 'json-contains', text: `"reference":${JSON.stringify(key)}` })));
    case 'referenced-reference':
      return {
        op: 'referenced',
        field: target.column,
        resourceType: target.resourceType,
        where: token(target.param, { op: 'in', field: 'value', values: keys }),
      };
    case 'id':
    case 'token':
    case 'column-token':
    case 'text':
    case 'scan-text':
    case 'instant':
    case 'period':
    case 'date-token':
      return FALSE;
  }
}
