/**
 * What every step of the booking saga works with (DESIGN.md section 4): the store, the practice's rules, the clock,
 * the hold TTL, the crash-test checkpoint and the set of sagas this process is running. `BookingService` builds one
 * per instance; steps are plain functions over it, so no step holds state of its own.
 */
import type { Slot } from '@medplum/fhirtypes';
import type { TenantConfig } from '../../config.js';
import type { Connector } from '../../connectors/connector.js';
import type { WorkLeases } from '../../leases/work-leases.js';
import type { Logger } from '../../logger.js';
import type { Store } from '../../store/database.js';
import type { BookingFailureCode, BookingRequest } from '../booking-types.js';

/** Where a requested time stands against the practice's rules, as read from the store. */
export type RuleVerdict =
  | {
      ok: true;
      /** The type is for new patients only: booking checks the patient's history upstream. */
      newPatientOnly: boolean;
      /** The Schedule (practitioner × location) the time is on: the live re-check looks at its blocks only. */
      scheduleId: string;
    }
  | { ok: false; code: BookingFailureCode; message?: string };

/** The availability rules booking consults (implemented over the store by `src/availability`). */
export interface BookingRules {
  /** Hours, blocks, type windows, new-patient rules, notice and horizon; appointments already in the store. */
  check(
    tenant: TenantConfig,
    request: BookingRequest & { ignoreAppointmentId?: string },
    now: Date,
  ): Promise<RuleVerdict>;
  /** Up to `limit` free slots near the request: same type and practitioner first, then others. */
  alternatives(tenant: TenantConfig, request: BookingRequest, now: Date, limit: number): Promise<Slot[]>;
}

/** A tenant as booking sees it: its configuration and the connector to its records system. */
export interface BookingTenant {
  config: TenantConfig;
  connector: Connector;
}

/**
 * Where {@link SagaContext.checkpoint} is called:
 * - `held`: the hold transaction (saga row + claims) has committed; nothing was sent upstream.
 * - `write-sent`: the upstream write has been started but its answer is not processed yet; awaited while the
 *   request is in flight, so a hook that waits until the records system shows the write models a crash between
 *   the request arriving and its answer being handled.
 * - `written`: the upstream write answered success (the 201), before the saga row records it.
 * - `verified`: the read-back found no clash, before the commit transaction.
 * - `committed`: the commit transaction (store + journal + saga state + claims released) has committed.
 */
export type SagaCheckpoint =
  | 'held'
  | 'write-sent'
  | 'written'
  /** The write's answer was lost: the saga is `unknown`, about to reconcile by marker. */
  | 'unknown'
  | 'verified'
  /** A clash after the write: the saga is `compensating`, about to undo its write. */
  | 'compensating'
  | 'committed';

/** The dependencies of the saga's steps, shared by every saga of one `BookingService`. */
export interface SagaContext {
  readonly store: Store;
  readonly rules: BookingRules;
  readonly logger: Logger;
  readonly now: () => Date;
  /** A saga step not finished within this is considered abandoned by the recovery worker. */
  readonly holdTtlMs: number;
  /** Test seam for the crash tests (reliability.md §7 row 7); does nothing in production. */
  readonly checkpoint: (step: SagaCheckpoint) => void | Promise<void>;
  /** Sagas this process is running, so recovery never races them. */
  readonly active: Set<string>;
  /** Told once a saga's row is written: from then on a pending answer can point at something readable. */
  readonly recorded: (sagaId: string) => void;
  /** The instance running these sagas (stamped on each saga row), when several share the store (issue 11). */
  readonly instanceId?: string;
  /**
   * The work leases (issue 11): recovery of a tenant runs only where its lease is held, fenced by it, and leaves
   * alone sagas whose instance is alive. None: recovery runs for every tenant, unfenced (tests, single process).
   */
  readonly leases?: WorkLeases;
  /**
   * Told when a saga's run ends with its write's outcome unknown (answered `booking-pending`): recovery asks the
   * records system soon after, rather than at its next interval, so the caller learns the outcome in seconds.
   */
  readonly leftToRecovery: () => void;
  /** Counts a saga handed to the practice's staff (a manual-intervention Task), for the metrics. */
  readonly needsAttention: (tenantId: string, reason: string) => void;
}
