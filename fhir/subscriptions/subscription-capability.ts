/**
 * What the Subscription surface adds to the CapabilityStatement (standards.md 4.2, "R4 server conformance"):
 * `Subscription` with its interactions, search parameters, the backport profile as a supported profile, the
 * operations, and one `capabilitystatement-subscriptiontopic-canonical` extension per topic; `Basic` for topic
 * discovery; and `instantiates` the backport IG's R4 server CapabilityStatement.
 */
import type { CapabilityStatementRestResource } from '@medplum/fhirtypes';
import { BACKPORT_SUBSCRIPTION_PROFILE } from '../../src/webhooks/subscriptions/subscription-resource.js';
import { topicCapabilityExtensions } from '../../src/webhooks/subscriptions/topics.js';
import { DEAD_LETTERS_DEFINITION, REDRIVE_DEFINITION } from '../operations/subscription-dead-letters.js';
import { SUBSCRIPTION_EVENTS_DEFINITION } from '../operations/subscription-events.js';
import { ROTATE_SECRET_DEFINITION } from '../operations/subscription-rotate-secret.js';
import { SUBSCRIPTION_STATUS_DEFINITION } from '../operations/subscription-status.js';

const BACKPORT = 'http://hl7.org/fhir/uv/subscriptions-backport';

/** `CapabilityStatement.instantiates` of a server with this surface. */
export const SUBSCRIPTION_SERVER_INSTANTIATES = [
  `${BACKPORT}/CapabilityStatement/backport-subscription-server-r4`,
];

/** The `rest.resource` entries for Subscription and Basic (topics). */
export function subscriptionCapabilityResources(): CapabilityStatementRestResource[] {
  return [
    {
      extension: topicCapabilityExtensions(),
      type: 'Subscription',
      profile: 'http://hl7.org/fhir/StructureDefinition/Subscription',
      supportedProfile: [BACKPORT_SUBSCRIPTION_PROFILE],
      documentation:
        'Topic-based webhooks (Subscriptions R5 Backport IG on R4): criteria = a topic canonical listed in this ' +
        "resource's extensions, channel rest-hook, payload application/fhir+json (notification Bundles) or " +
        'application/json (Standard Webhooks envelopes) with backport-payload-content empty, id-only or ' +
        'full-resource. Every delivery is signed per Standard Webhooks; the whsec_ secret is answered once, on ' +
        'create (header X-Switchboard-Webhook-Secret and channel extension webhook-secret) and by ' +
        '$rotate-secret. PUT with status off pauses; requested re-enables with catch-up. Endpoints must be ' +
        'https on an allowed port at a public address unless allowlisted.',
      interaction: [
        { code: 'create' },
        { code: 'read' },
        { code: 'update' },
        { code: 'delete' },
        { code: 'search-type' },
      ],
      versioning: 'versioned',
      readHistory: false,
      updateCreate: false,
      conditionalCreate: false,
      conditionalRead: 'not-supported',
      conditionalUpdate: false,
      conditionalDelete: 'not-supported',
      searchParam: [
        {
          name: '_id',
          definition: 'http://hl7.org/fhir/SearchParameter/Resource-id',
          type: 'token',
          documentation: 'The subscription id.',
        },
        {
          name: 'status',
          definition: 'http://hl7.org/fhir/SearchParameter/Subscription-status',
          type: 'token',
          documentation: 'requested, active, error or off.',
        },
        {
          name: 'url',
          definition: 'http://hl7.org/fhir/SearchParameter/Subscription-url',
          type: 'uri',
          documentation: 'The channel endpoint, exactly.',
        },
        {
          name: 'criteria',
          definition: 'http://hl7.org/fhir/SearchParameter/Subscription-criteria',
          type: 'string',
          documentation: 'The topic canonical, exactly.',
        },
      ],
      operation: [
        {
          name: SUBSCRIPTION_STATUS_DEFINITION.code,
          definition: SUBSCRIPTION_STATUS_DEFINITION.url,
          documentation: 'GET|POST Subscription/[id]/$status and Subscription/$status?id=&status=.',
        },
        {
          name: SUBSCRIPTION_EVENTS_DEFINITION.code,
          definition: SUBSCRIPTION_EVENTS_DEFINITION.url,
          documentation:
            'GET|POST Subscription/[id]/$events?eventsSinceNumber=&eventsUntilNumber=&content=; at most 100 events per call.',
        },
        {
          name: ROTATE_SECRET_DEFINITION.code,
          definition: ROTATE_SECRET_DEFINITION.url,
          documentation:
            'POST Subscription/[id]/$rotate-secret[?overlap-seconds=]: a new whsec_ secret (answered once); the old one keeps signing until previous-secret-expires.',
        },
        {
          name: DEAD_LETTERS_DEFINITION.code,
          definition: DEAD_LETTERS_DEFINITION.url,
          documentation: 'GET Subscription/[id]/$dead-letters: events that ran out of retries.',
        },
        {
          name: REDRIVE_DEFINITION.code,
          definition: REDRIVE_DEFINITION.url,
          documentation: 'POST Subscription/[id]/$redrive[?event-number=]: queue dead letters again.',
        },
      ],
    },
    {
      type: 'Basic',
      profile: 'http://hl7.org/fhir/StructureDefinition/Basic',
      supportedProfile: ['http://hl7.org/fhir/5.0/StructureDefinition/profile-SubscriptionTopic'],
      documentation:
        'Subscription topics, as the Subscriptions Backport IG represents SubscriptionTopic on R4: ' +
        'GET Basic?code=http://hl7.org/fhir/fhir-types|SubscriptionTopic, GET Basic/[topic id].',
      interaction: [{ code: 'read' }, { code: 'search-type' }],
      versioning: 'no-version',
      readHistory: false,
      updateCreate: false,
      searchParam: [
        {
          name: '_id',
          definition: 'http://hl7.org/fhir/SearchParameter/Resource-id',
          type: 'token',
          documentation: 'The topic id (the last segment of its canonical).',
        },
        {
          name: 'code',
          definition: 'http://hl7.org/fhir/SearchParameter/Basic-code',
          type: 'token',
          documentation: 'SubscriptionTopic (system http://hl7.org/fhir/fhir-types).',
        },
      ],
    },
  ];
}
