/**
 * The FHIR Subscription resource as the Subscriptions Backport IG profiles it on R4 (standards.md 4.2), read into
 * what delivery needs: `criteria` is the topic canonical, filters sit in `_criteria.extension
 * [backport-filter-criteria]`, `channel.type` is `rest-hook`, `channel.payload` the MIME type with
 * `_payload.extension[backport-payload-content]`, and heartbeat, timeout and max-count are channel extensions.
 *
 * Two payload MIME types are offered: `application/fhir+json` sends backport notification Bundles;
 * `application/json` sends the same events as Standard Webhooks envelopes `{type, timestamp, data}`.
 */
import type { Extension, Subscription } from '@medplum/fhirtypes';
import { SubscriptionError } from './subscription-error.js';
import { parseFilterCriteria } from './subscription-filters.js';
import type { SubscriptionRecord } from './subscription-record.js';
import { topicByUrl, type TopicDefinition } from './topics.js';

const BACKPORT = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/';
export const BACKPORT_SUBSCRIPTION_PROFILE = `${BACKPORT}backport-subscription`;
export const FILTER_CRITERIA_EXTENSION = `${BACKPORT}backport-filter-criteria`;
export const PAYLOAD_CONTENT_EXTENSION = `${BACKPORT}backport-payload-content`;
export const HEARTBEAT_PERIOD_EXTENSION = `${BACKPORT}backport-heartbeat-period`;
export const TIMEOUT_EXTENSION = `${BACKPORT}backport-timeout`;
export const MAX_COUNT_EXTENSION = `${BACKPORT}backport-max-count`;

/** How much of the focus a notification carries. */
export type PayloadContent = 'empty' | 'id-only' | 'full-resource';
export const PAYLOAD_CONTENTS: readonly PayloadContent[] = ['empty', 'id-only', 'full-resource'];

/** Notification body format. */
export type NotificationContentType = 'application/fhir+json' | 'application/json';

/** A Subscription resource in the R4 shape, with the primitive extensions the backport uses. */
export type BackportSubscription = Subscription & {
  _criteria?: { extension?: Extension[] };
  channel: Subscription['channel'] & { _payload?: { extension?: Extension[] } };
};

/**
 * What a Subscription resource asks for, validated: the client-settable part of the one domain shape
 * ({@link SubscriptionRecord}), with the topic resolved and the status the client asked for (the server decides
 * the real one).
 */
export type SubscriptionSpec = Pick<
  SubscriptionRecord,
  | 'filters'
  | 'endpoint'
  | 'payloadContent'
  | 'contentType'
  | 'heartbeatSeconds'
  | 'timeoutSeconds'
  | 'maxCount'
  | 'end'
> & {
  /** `Name: value` lines sent with every notification. */
  headers: string[];
  topic: TopicDefinition;
  requestedStatus: Subscription['status'];
};

/** Header names a subscriber may not set: they carry the signature, framing or routing. */
const RESERVED_HEADERS = new Set([
  'host',
  'content-type',
  'content-length',
  'transfer-encoding',
  'connection',
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
]);
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const MAX_HEADERS = 10;

/**
 * Reads and validates a Subscription resource.
 * @throws SubscriptionError naming the offending element
 */
export function parseSubscription(resource: BackportSubscription): SubscriptionSpec {
  if (resource.resourceType !== 'Subscription') {
    throw new SubscriptionError('invalid', 'the resource is not a Subscription');
  }
  if (typeof resource.reason !== 'string' || resource.reason.trim() === '') {
    throw new SubscriptionError('required', 'Subscription.reason is required', 'Subscription.reason');
  }
  if (typeof resource.criteria !== 'string' || resource.criteria === '') {
    throw new SubscriptionError(
      'required',
      'Subscription.criteria must name a SubscriptionTopic',
      'Subscription.criteria',
    );
  }
  const topic = topicByUrl(resource.criteria);
  if (!topic) {
    throw new SubscriptionError(
      'not-supported',
      `unknown SubscriptionTopic ${resource.criteria}; see the CapabilityStatement for the topics offered`,
      'Subscription.criteria',
    );
  }
  const criteriaExtensions = resource._criteria?.extension ?? [];
  const filterStrings = criteriaExtensions
    .filter((e) => e.url === FILTER_CRITERIA_EXTENSION)
    .map((e, i) => {
      if (typeof e.valueString !== 'string') {
        throw new SubscriptionError(
          'invalid',
          'backport-filter-criteria needs a valueString',
          `Subscription.criteria.extension[${i}]`,
        );
      }
      return e.valueString;
    });
  const filters = parseFilterCriteria(topic, filterStrings);

  const channel = resource.channel as BackportSubscription['channel'] | undefined;
  if (!channel)
    throw new SubscriptionError('required', 'Subscription.channel is required', 'Subscription.channel');
  if (channel.type !== 'rest-hook') {
    throw new SubscriptionError(
      'not-supported',
      `channel type ${String(channel.type)} is not supported; use rest-hook`,
      'Subscription.channel.type',
    );
  }
  if (typeof channel.endpoint !== 'string' || channel.endpoint === '') {
    throw new SubscriptionError(
      'required',
      'a rest-hook channel needs an endpoint',
      'Subscription.channel.endpoint',
    );
  }
  const contentType = parseContentType(channel.payload);
  const payloadContent = parsePayloadContent(channel._payload?.extension ?? []);
  const channelExtensions = channel.extension ?? [];
  const heartbeatSeconds = positiveInteger(channelExtensions, HEARTBEAT_PERIOD_EXTENSION, 'valueUnsignedInt');
  const timeoutSeconds = positiveInteger(channelExtensions, TIMEOUT_EXTENSION, 'valueUnsignedInt');
  const maxCount = positiveInteger(channelExtensions, MAX_COUNT_EXTENSION, 'valuePositiveInt');
  const headers = parseHeaders(channel.header ?? []);

  let end: string | null = null;
  if (resource.end !== undefined) {
    const time = Date.parse(resource.end);
    if (Number.isNaN(time) || !/T.*(Z|[+-]\d\d:\d\d)$/.test(resource.end)) {
      throw new SubscriptionError(
        'value',
        'Subscription.end must be an instant with a time zone',
        'Subscription.end',
      );
    }
    end = new Date(time).toISOString();
  }
  return {
    topic,
    filters,
    endpoint: channel.endpoint,
    payloadContent,
    contentType,
    headers,
    heartbeatSeconds,
    timeoutSeconds,
    maxCount,
    end,
    requestedStatus: resource.status,
  };
}

/**
 * The resource to store: the client's resource with the server's id, status and error. The profile is added so
 * readers know which IG shapes it.
 */
export function storedSubscriptionResource(
  resource: BackportSubscription,
  state: { id: string; status: Subscription['status']; error?: string | null },
): BackportSubscription & { id: string } {
  const { meta, error: _clientError, ...rest } = resource;
  // The store stamps versionId and lastUpdated itself.
  const { versionId: _versionId, lastUpdated: _lastUpdated, ...metaRest } = meta ?? {};
  const profiles = new Set([...(metaRest.profile ?? []), BACKPORT_SUBSCRIPTION_PROFILE]);
  const stored: BackportSubscription & { id: string } = {
    ...rest,
    channel: maskedChannel(rest.channel),
    resourceType: 'Subscription',
    id: state.id,
    meta: { ...metaRest, profile: [...profiles] },
    status: state.status,
  };
  if (state.error) stored.error = state.error;
  return stored;
}

/**
 * What the stored resource shows in place of a channel header's value: the values may be the subscriber's
 * credentials, so they are kept only sealed in the run-time row (issue 15 item 5) and the resource, its history and
 * every read show this. A PUT that sends a header back with this value keeps the stored value.
 */
export const HEADER_VALUE_MASK = '[encrypted]';

/** `Name: value` with the value masked. */
export function maskedHeaderLine(line: string): string {
  const colon = line.indexOf(':');
  return colon > 0 ? `${line.slice(0, colon).trim()}: ${HEADER_VALUE_MASK}` : HEADER_VALUE_MASK;
}

function maskedChannel(channel: BackportSubscription['channel']): BackportSubscription['channel'] {
  if (!channel.header) return channel;
  return { ...channel, header: channel.header.map(maskedHeaderLine) };
}

/**
 * The header lines to keep for an update: a line whose value is {@link HEADER_VALUE_MASK} takes the value of the
 * header of that name in `current` (the lines stored before).
 * @throws SubscriptionError (`value`) for a masked header that has no stored value
 */
export function unmaskHeaders(lines: readonly string[], current: readonly string[]): string[] {
  const byName = new Map(current.map((line) => [headerName(line), line] as const));
  return lines.map((line, i) => {
    if (!line.endsWith(`: ${HEADER_VALUE_MASK}`)) return line;
    const kept = byName.get(headerName(line));
    if (kept === undefined) {
      throw new SubscriptionError(
        'value',
        `channel header ${line.slice(0, line.indexOf(':'))} has no stored value to keep: send its value`,
        `Subscription.channel.header[${i}]`,
      );
    }
    return kept;
  });
}

function headerName(line: string): string {
  return line.slice(0, line.indexOf(':')).trim().toLowerCase();
}

/** A copy safe to show to other subscribers (notifications about a subscription): no channel headers. */
export function redactedSubscription(resource: BackportSubscription): BackportSubscription {
  const { header: _header, ...channel } = resource.channel;
  return { ...resource, channel };
}

function parseContentType(payload: string | undefined): NotificationContentType {
  if (payload === undefined) {
    throw new SubscriptionError(
      'required',
      'Subscription.channel.payload is required (application/fhir+json or application/json)',
      'Subscription.channel.payload',
    );
  }
  const [mime, ...params] = payload.split(';').map((p) => p.trim().toLowerCase());
  const fhirVersionOk = params.every(
    (p) => p === '' || /^fhirversion=4\.0(\.1)?$/.test(p.replace(/\s/g, '')),
  );
  if ((mime === 'application/fhir+json' || mime === 'application/json') && fhirVersionOk) return mime;
  throw new SubscriptionError(
    'not-supported',
    `payload ${payload} is not supported; use application/fhir+json or application/json`,
    'Subscription.channel.payload',
  );
}

function parsePayloadContent(extensions: readonly Extension[]): PayloadContent {
  const content = extensions.find((e) => e.url === PAYLOAD_CONTENT_EXTENSION)?.valueCode;
  // The IG makes it 1..1; a missing one is read as the thinnest payload that still names the focus.
  if (content === undefined) return 'id-only';
  if ((PAYLOAD_CONTENTS as readonly string[]).includes(content)) return content as PayloadContent;
  throw new SubscriptionError(
    'value',
    `payload content ${content} is not one of ${PAYLOAD_CONTENTS.join(', ')}`,
    'Subscription.channel.payload.extension',
  );
}

function positiveInteger(
  extensions: readonly Extension[],
  url: string,
  key: 'valueUnsignedInt' | 'valuePositiveInt',
): number | null {
  const extension = extensions.find((e) => e.url === url);
  if (!extension) return null;
  const value = extension[key];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new SubscriptionError(
      'value',
      `${url.split('/').pop()} must be a positive integer (${key})`,
      'Subscription.channel.extension',
    );
  }
  return value;
}

function parseHeaders(lines: readonly string[]): string[] {
  if (lines.length > MAX_HEADERS) {
    throw new SubscriptionError(
      'value',
      `at most ${MAX_HEADERS} channel headers`,
      'Subscription.channel.header',
    );
  }
  return lines.map((line, i) => {
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon).trim() : '';
    const value = colon > 0 ? line.slice(colon + 1).trim() : '';
    const where = `Subscription.channel.header[${i}]`;
    if (!HEADER_NAME.test(name) || !HEADER_VALUE.test(value)) {
      throw new SubscriptionError('value', 'a channel header must be "Name: value"', where);
    }
    if (RESERVED_HEADERS.has(name.toLowerCase())) {
      throw new SubscriptionError('value', `channel header ${name} is set by the server`, where);
    }
    return `${name}: ${value}`;
  });
}
