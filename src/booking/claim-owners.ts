/**
 * Which process made an Idempotency-Key claim, and whether it is still alive (issues 10 and 11): a replay of a key
 * whose process died must not wait out the claim's lease. A process is named by its instance id and a nonce drawn
 * at each start, so an instance restarted under a configured id is not mistaken for the process that died.
 *
 * Alive means: this process; or, on a store shared by several instances, another instance with a recent heartbeat
 * (its work lease's liveness: dead within the lease TTL). A restart of another instance under the same configured
 * id looks alive until its claims' lease (`IN_FLIGHT_LEASE_MS`) runs out — the one case still waited out.
 */
import { randomUUID } from 'node:crypto';
import type { WorkLeases } from '../leases/work-leases.js';

export interface ClaimOwners {
  /** This process, as its claims name it. */
  readonly self: string;
  /** Whether the process that made a claim may still finish it. */
  isAlive(owner: string): Promise<boolean>;
}

/** `leases` undefined: a process that shares its store with no other (no scheduled work, as in tests). */
export function claimOwners(leases: WorkLeases | undefined): ClaimOwners {
  const instanceId = leases?.instanceId ?? 'local';
  const self = `${instanceId}/${randomUUID()}`;
  return {
    self,
    async isAlive(owner) {
      if (owner === self) return true;
      const ownerInstance = owner.slice(0, owner.lastIndexOf('/'));
      // An earlier start of this instance, or a process of a store nobody else shares: gone.
      if (ownerInstance === instanceId || !leases) return false;
      return (await leases.liveInstances()).includes(ownerInstance);
    },
  };
}
