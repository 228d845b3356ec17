/**
 * Who may receive `full-resource` payloads (standards.md 4.2, payload content; DESIGN.md section 7): a
 * `full-resource` subscription hands copies of its topic's focus resources to its endpoint, so registering one
 * needs read access to that resource type as well — a Subscription scope alone must never become a way to read
 * Patients. The facade enforces the answer with its own access check.
 */
import type { ResourceType } from '@medplum/fhirtypes';
import { SubscriptionError } from './subscription-error.js';
import { parseSubscription, type BackportSubscription } from './subscription-resource.js';

/**
 * The resource type a client must be allowed to read to create or update `resource`, or undefined when it needs
 * none (not `full-resource`, or a topic without a focus). A resource that does not parse needs none here: the
 * store rejects it afterwards, in the same words.
 *
 * @see https://build.fhir.org/ig/HL7/fhir-subscription-backport-ig/payloads.html#full-resource
 */
export function readAccessNeeded(resource: BackportSubscription): ResourceType | undefined {
  let spec: ReturnType<typeof parseSubscription>;
  try {
    spec = parseSubscription(resource);
  } catch (error) {
    if (error instanceof SubscriptionError) return undefined;
    throw error;
  }
  return spec.payloadContent === 'full-resource' ? spec.topic.focusType : undefined;
}
