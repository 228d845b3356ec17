/**
 * Which process made an Idempotency-Key claim, and whether it is still alive (issues 10 and 11): a replay of a key
 * whose process died must not wait out the claim's lease. A claim names the process by its work leases'
 * `processId` (instance id and that start of it), so an instance restarted under a configured id, on this machine
 * or another, is not mistaken for the process that died.
 *
 * Alive means: this process; or, on a store shared by several instances, a process whose instance heartbeats and
 * whose start is the one the heartbeat row names (the work leases' liveness: dead within the lease TTL).
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
  const self = leases?.processId ?? `local/${randomUUID()}`;
  return {
    self,
    async isAlive(owner) {
      if (owner === self) return true;
      // A process of a store nobody else shares, or an earlier start of an instance: gone.
      return leases ? (await leases.liveProcesses()).includes(owner) : false;
    },
  };
}
