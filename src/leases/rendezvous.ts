/**
 * Rendezvous (highest-random-weight) hashing: which live instance a tenant's work belongs to. Every instance
 * computes the same answer from the same list of live instances, a tenant moves only when its owner leaves or a
 * new instance outranks it, and tenants spread evenly over instances.
 *
 * @see https://en.wikipedia.org/wiki/Rendezvous_hashing
 */
import { createHash } from 'node:crypto';

function weight(instanceId: string, key: string): bigint {
  return createHash('sha256').update(`${instanceId}\u0000${key}`).digest().readBigUInt64BE(0);
}

/** The instance among `instances` that `key` belongs to; undefined when there is none. */
export function rendezvousOwner(instances: readonly string[], key: string): string | undefined {
  let best: string | undefined;
  let bestWeight = -1n;
  for (const instance of instances) {
    const w = weight(instance, key);
    if (w > bestWeight || (w === bestWeight && best !== undefined && instance < best)) {
      best = instance;
      bestWeight = w;
    }
  }
  return best;
}
