/**
 * Subscription filters (standards.md 4.2: `Subscription.criteria.extension[backport-filter-criteria]`), parsed
 * into the few values outbox matching uses. Accepted forms, each string ANDed with the others:
 * `Appointment?patient=Patient/123&status=booked,arrived`, `patient=Patient/123`, `Appointment.patient=123`.
 * Modifiers (`param:mod=`) are refused rather than ignored: a subscriber must never get more than it asked for.
 */
import type { TopicDefinition, TopicFilter } from './topics.js';
import { SubscriptionError } from './subscription-error.js';

/** Parsed filters; absent means "any". Reference filters hold the bare id. */
export interface SubscriptionFilters {
  patient?: string;
  practitioner?: string;
  location?: string;
  /** Any of these codes matches. */
  status?: string[];
}

const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;
const CODE = /^[A-Za-z0-9\-.]{1,64}$/;
const REFERENCE_TYPE = { patient: 'Patient', practitioner: 'Practitioner', location: 'Location' } as const;

/**
 * Parses the filter strings of a subscription to `topic`.
 * @throws SubscriptionError (`not-supported` for a filter the topic does not offer, `value` for a bad value)
 */
export function parseFilterCriteria(
  topic: TopicDefinition,
  criteria: readonly string[],
  expression = 'Subscription.criteria.extension',
): SubscriptionFilters {
  const filters: SubscriptionFilters = {};
  for (const raw of criteria) {
    let text = raw.trim();
    let resourceType: string | undefined;
    const question = text.indexOf('?');
    if (question >= 0) {
      resourceType = text.slice(0, question);
      text = text.slice(question + 1);
    }
    for (const pair of text.split('&')) {
      if (pair === '') continue;
      const equals = pair.indexOf('=');
      if (equals <= 0)
        throw new SubscriptionError('invalid', `filter "${raw}" is not param=value`, expression);
      let name = decode(pair.slice(0, equals), expression);
      const value = decode(pair.slice(equals + 1), expression);
      const dot = name.indexOf('.');
      let type = resourceType;
      if (type === undefined && dot > 0 && /^[A-Z]/.test(name)) {
        type = name.slice(0, dot);
        name = name.slice(dot + 1);
      }
      if (name.includes(':')) {
        throw new SubscriptionError(
          'not-supported',
          `filter modifiers are not supported ("${name}")`,
          expression,
        );
      }
      const filter = findFilter(topic, type, name);
      if (!filter) {
        const offered = topic.filters.map((f) => `${f.resource}?${f.parameter}`).join(', ') || 'none';
        throw new SubscriptionError(
          'not-supported',
          `topic ${topic.url} cannot filter by ${type ? `${type}?` : ''}${name} (it offers: ${offered})`,
          expression,
        );
      }
      if (filters[filter.name] !== undefined) {
        throw new SubscriptionError(
          'invalid',
          `filter ${filter.parameter} is given more than once`,
          expression,
        );
      }
      if (filter.name === 'status') {
        const codes = value.split(',').map((c) => c.trim());
        if (codes.some((c) => !CODE.test(c))) {
          throw new SubscriptionError('value', `filter status=${value} is not a list of codes`, expression);
        }
        filters.status = codes;
      } else {
        filters[filter.name] = referenceId(filter, value, expression);
      }
    }
  }
  return filters;
}

/** The filters as `backport-filter-criteria` strings (the canonical spelling of {@link parseFilterCriteria}). */
export function formatFilterCriteria(topic: TopicDefinition, filters: SubscriptionFilters): string[] {
  const out: string[] = [];
  for (const filter of topic.filters) {
    const value = filters[filter.name];
    if (value === undefined) continue;
    const text =
      filter.name === 'status'
        ? (value as string[]).join(',')
        : filter.parameter === '_id'
          ? (value as string)
          : `${REFERENCE_TYPE[filter.name as keyof typeof REFERENCE_TYPE]}/${value as string}`;
    out.push(`${filter.resource}?${filter.parameter}=${text}`);
  }
  return out;
}

function findFilter(topic: TopicDefinition, type: string | undefined, name: string): TopicFilter | undefined {
  return topic.filters.find((f) => f.parameter === name && (type === undefined || f.resource === type));
}

function referenceId(filter: TopicFilter, value: string, expression: string): string {
  const expectedType = filter.name === 'status' ? undefined : REFERENCE_TYPE[filter.name];
  const slash = value.lastIndexOf('/');
  if (slash >= 0) {
    const type = value.slice(0, slash).split('/').pop();
    if (type !== expectedType) {
      throw new SubscriptionError(
        'value',
        `filter ${filter.parameter} must reference a ${expectedType ?? 'resource'} (got "${value}")`,
        expression,
      );
    }
  }
  const id = value.slice(slash + 1);
  if (!FHIR_ID.test(id)) {
    throw new SubscriptionError('value', `filter ${filter.parameter}=${value} is not a valid id`, expression);
  }
  return id;
}

function decode(text: string, expression: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    throw new SubscriptionError('invalid', `filter "${text}" is not correctly URL-encoded`, expression);
  }
}
