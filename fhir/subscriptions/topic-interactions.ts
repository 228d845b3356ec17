/**
 * Subscription topics on R4 (standards.md 4.2, "Topics in R4"): `SubscriptionTopic` is an R5 resource, so an R4
 * server cannot serve `GET SubscriptionTopic`. The Subscriptions Backport IG represents a topic as a `Basic`
 * with `code = http://hl7.org/fhir/fhir-types#SubscriptionTopic` and the cross-version
 * `extension-SubscriptionTopic.*` extensions (`topicResource` in src/webhooks/topics.ts); this serves them:
 * - `GET [base]/Basic?code=SubscriptionTopic` (or `code=http://hl7.org/fhir/fhir-types|SubscriptionTopic`,
 *   `_id=appointment-booked`): a searchset of the topics;
 * - `GET [base]/Basic/[topic id]`: one topic.
 * Topics are also listed, by canonical, on the CapabilityStatement. Authorized as a read/search of Basic.
 */
import { LIST_PAGE_PARAMETERS, listPage } from '../search/list-page.js';
import type { Basic, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { topicById, topicResource, topicResources } from '../../src/webhooks/subscriptions/topics.js';
import { SOFTWARE_VERSION } from '../../src/version.js';
import type { FhirRequestContext } from '../access.js';
import { audited, type InteractionDeps, type InteractionResult } from '../interactions/interaction-deps.js';
import { FhirError, notFound } from '../operation-outcome.js';
import { searchsetBundle } from '../search/bundle-builder.js';
import type { SubscriptionRouteDeps } from './subscription-deps.js';

const FHIR_TYPES = 'http://hl7.org/fhir/fhir-types';
const TOPIC_CODES = new Set(['SubscriptionTopic', `${FHIR_TYPES}|SubscriptionTopic`]);

/** `GET [base]/Basic?code=…&_id=…`. */
export function searchTopicsInteraction(
  ctx: FhirRequestContext,
  deps: InteractionDeps,
  subscriptions: SubscriptionRouteDeps,
  params: ReadonlyArray<readonly [string, string]>,
  strict: boolean,
): Promise<InteractionResult> {
  return audited(ctx, deps, 'search', 'Basic', () => {
    const warnings: OperationOutcomeIssue[] = [];
    const names: string[] = [];
    let topics: Basic[] = topicResources(subscriptions.topicVersion ?? SOFTWARE_VERSION);
    for (const [name, value] of params) {
      if (name === '_format' || name === '_pretty' || LIST_PAGE_PARAMETERS.has(name)) continue;
      const values = value.split(',').map((v) => v.trim());
      if (name === 'code') {
        topics = values.some((v) => TOPIC_CODES.has(v)) ? topics : [];
      } else if (name === '_id') {
        topics = topics.filter((t) => values.includes(t.id ?? ''));
      } else if (strict) {
        throw FhirError.of(400, 'not-supported', `unknown search parameter ${name}`, { expression: name });
      } else {
        warnings.push({
          severity: 'warning',
          code: 'not-supported',
          diagnostics: `unknown search parameter ${name}; ignored (Basic supports code and _id)`,
          expression: [name],
        });
        continue;
      }
      if (!names.includes(name)) names.push(name);
    }
    const base = deps.baseUrl(ctx);
    const { page, links } = listPage(topics, { base, path: 'Basic', params }, warnings);
    const body = searchsetBundle({
      base,
      matches: page,
      included: [],
      warnings,
      total: topics.length,
      links,
    });
    return Promise.resolve({
      status: 200,
      body,
      resourceIds: page.map((t) => t.id ?? ''),
      parameters: names,
    });
  });
}

/** `GET [base]/Basic/[id]`: the topic with that id (`appointment-booked` …); 404 for anything else. */
export function readTopicInteraction(
  ctx: FhirRequestContext,
  deps: InteractionDeps,
  subscriptions: SubscriptionRouteDeps,
  id: string,
): Promise<InteractionResult> {
  return audited(ctx, deps, 'read', 'Basic', () => {
    const topic = topicById(id);
    if (!topic) throw notFound(`Basic/${id}`);
    const body = topicResource(topic, subscriptions.topicVersion ?? SOFTWARE_VERSION);
    return Promise.resolve({ status: 200, body, resourceIds: [id] });
  });
}

/** `[base]/SubscriptionTopic…` is R5: a 404 that says where R4 keeps topics. */
export function subscriptionTopicIsR5(): FhirError {
  return FhirError.of(
    404,
    'not-supported',
    'SubscriptionTopic is an R5 resource; this R4 server serves topics the Subscriptions Backport way, as ' +
      'Basic resources: GET Basic?code=http://hl7.org/fhir/fhir-types|SubscriptionTopic, or GET Basic/[topic id]',
  );
}
