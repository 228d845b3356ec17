/**
 * Which process made an Idempotency-Key claim, and whether it is still alive (issues 10 and 11): a replay of a key
 * whose process died must not wait out the claim's lease. A claim names the process by its work leases'
 * `processId` (instance id and that start of it), so an instance restarted under a configured id, on this machine
 * or another, is not mistaken for the process that died.
 *
 * Alive means: this process; or, on a store shared by several instances, a process whose instance heartbeats and
 * whose start is the one the heartbeat row names (the work leases' liveness: dead within the lease TTL). A claim
 * written by an older Switchboard names its process by a random nonce, not its start: it is judged by its instance
 * alone, as it was then (alive while another instance of that id heartbeats), so a rolling upgrade takes over no
 * claim that is still running.
 */
import { randomUUID } from 'node:crypto';
import type { WorkLeases } from '../leases/work-leases.js';

/** The start a process name ends with (`WorkLeases.processId`); older claims end with a random nonce instead. */
const STARTED_AT = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

export interface ClaimOwners {
  /** This process, as its claims name it. */
  readonly self: string;
  /** Whether the process that made a claim may still finish it. */
  isAlive(owner: string): Promise<boolean>;
}

/** `leases` undefined: a process that shares its store with no other (no scheduled work, as in tests). */
export function claimOwners(leases: WorkLeases | undefined): ClaimOwners {
  const self = leases?.processId ?? `local/${randomUUID()}`;
  return {
    self,
    async isAlive(owner) {
      if (owner === self) return true;
      // A process of a store nobody else shares: gone.
      if (!leases) return false;
      const slash = owner.lastIndexOf('/');
      if (!STARTED_AT.test(owner.slice(slash + 1))) {
        const instance = owner.slice(0, slash);
        return instance !== leases.instanceId && (await leases.liveInstances()).includes(instance);
      }
      // An earlier start of an instance is gone, whichever instance asks.
      return (await leases.liveProcesses()).includes(owner);
    },
  };
}
