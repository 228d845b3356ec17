/**
 * The recovery worker (DESIGN.md section 4): finishes or undoes every saga whose last step is older than the hold
 * TTL — in practice those a crashed process left behind — and releases `$hold`s that expired. Also purges expired
 * idempotency records. With several instances on one store (issue 11), a tenant's recovery runs only on the
 * instance holding its work lease and every recovery step is fenced by that lease (a step begun under a lease that
 * passed on commits nothing); sagas whose own instance is still alive are left to it, and every instance recovers
 * its own sagas whether or not it holds the tenant's lease.
 */
import { appendJournal } from '../../events/change-writer.js';
import { isLeaseLost } from '../../store/lease-rows.js';
import { purgeExpiredIdempotencyRecords } from '../idempotency-store.js';
import { commit } from './commit-step.js';
import { compensate } from './compensate-step.js';
import { reconcile } from './reconcile-step.js';
import { releaseSaga, unchangedSince } from './release-step.js';
import type { BookingTenant, SagaContext } from './saga-context.js';
import { staleSagas, type Saga } from './saga-store.js';
import { verifyAndCommit } from './verify-step.js';

/**
 * How long a saga whose write's answer was lost (`unknown`) waits before recovery asks the records system: its own
 * run has ended (answered `booking-pending`; a process still reconciling inline has it in `ctx.active`), so the
 * agent should learn the outcome within seconds, not after the hold TTL.
 */
const UNKNOWN_AFTER_MS = 3_000;

export class SagaRecovery {
  private timer: NodeJS.Timeout | undefined;
  private soonTimer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly ctx: SagaContext,
    private readonly tenants: readonly BookingTenant[],
  ) {}

  /** One pass now (finishing what a crash left), then every `intervalMs`; 0 runs the one pass only. */
  start(intervalMs: number): void {
    void this.recover();
    if (intervalMs > 0) this.timer = setInterval(() => void this.recover(), intervalMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.soonTimer);
    this.timer = undefined;
    await this.running;
  }

  /**
   * A saga was just left `unknown`: a pass once it is old enough to be taken over ({@link UNKNOWN_AFTER_MS}), and
   * another if that one could not settle it (the records system still failing), before the regular interval.
   * Sagas left close together share the passes.
   */
  soon(): void {
    if (this.soonTimer || this.stopped) return;
    let passes = 0;
    const pass = () => {
      this.soonTimer = undefined;
      if (this.stopped) return;
      void this.recover().then(() => {
        if (++passes < 3 && !this.stopped && !this.soonTimer)
          this.soonTimer = setTimeout(pass, UNKNOWN_AFTER_MS).unref();
      });
    };
    this.soonTimer = setTimeout(pass, UNKNOWN_AFTER_MS + 250).unref();
  }

  /** One pass; a pass already running is joined rather than doubled. */
  recover(): Promise<void> {
    const { ctx } = this;
    this.running ??= (async () => {
      try {
        // Idempotency records past their retention go too (claims purge their own tenant's as they come).
        await purgeExpiredIdempotencyRecords(ctx.store, ctx.now()).catch((err: unknown) =>
          ctx.logger.warn({ err }, 'purging expired idempotency records failed'),
        );
        const staleBefore = new Date(ctx.now().getTime() - ctx.holdTtlMs);
        const leases = ctx.leases;
        const liveOthers = leases
          ? (await leases.liveInstances()).filter((id) => id !== leases.instanceId)
          : [];
        for (const tenant of this.tenants) {
          const tenantId = tenant.config.id;
          // The tenant's lease holder recovers every saga whose owner is gone; every instance recovers its own
          // (a saga left `unknown` by a lost write answer, whose owner lives on without the tenant's lease, would
          // otherwise wait for that owner to die).
          const holder = !leases || leases.holds(tenantId);
          const fence = holder ? leases?.fenceOf(tenantId) : undefined;
          const stale = await staleSagas(ctx.store, tenantId, {
            staleBefore,
            unknownStaleBefore: new Date(ctx.now().getTime() - Math.min(ctx.holdTtlMs, UNKNOWN_AFTER_MS)),
            now: ctx.now(),
            liveOwners: liveOthers,
          });
          for (const saga of stale) {
            if (ctx.active.has(saga.id)) continue;
            if (!holder && saga.ownerInstance !== leases?.instanceId) continue;
            await ctx.store
              .fenced(fence, () => this.recoverSaga(tenant, saga))
              .catch((err: unknown) =>
                isLeaseLost(err)
                  ? ctx.logger.info({ tenant: tenantId, saga: saga.id }, 'saga recovery step fenced off')
                  : ctx.logger.warn({ err, tenant: tenantId, saga: saga.id }, 'saga recovery failed'),
              );
          }
        }
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  private async recoverSaga(tenant: BookingTenant, saga: Saga): Promise<void> {
    const { ctx } = this;
    const log = ctx.logger.child({ tenant: saga.tenantId, saga: saga.id, state: saga.state });
    switch (saga.state) {
      case 'held':
        // Nothing was sent upstream: release the time. A `$hold` that lapsed is no failure, just expired. The
        // guard skips a hold confirmed since it was listed.
        if (saga.kind === 'hold') {
          await releaseSaga(
            ctx,
            saga.tenantId,
            saga.id,
            'the hold expired',
            'booking.hold-expired',
            undefined,
            unchangedSince(saga),
          );
          log.info('released an expired hold');
        } else {
          await releaseSaga(
            ctx,
            saga.tenantId,
            saga.id,
            'rolled back after a restart',
            'booking.rolled-back',
            undefined,
            unchangedSince(saga),
          );
          log.info('released an abandoned hold');
        }
        return;
      case 'writing':
      case 'unknown':
      case 'written': {
        const record = await reconcile(ctx, tenant, saga);
        if (!record) {
          await releaseSaga(ctx, saga.tenantId, saga.id, 'not written upstream', 'booking.rolled-back');
          log.info('abandoned write never reached the records system; released');
          return;
        }
        if (saga.kind === 'cancel') await commit(ctx, saga, record, 'appointment.cancelled');
        else {
          const outcome = await verifyAndCommit(ctx, tenant, saga, record);
          // Its client was answered booking-pending (or its process died): the resolution is an event.
          if (saga.kind === 'book' && outcome.ok) {
            await appendJournal(ctx.store, saga.tenantId, [
              {
                eventType: 'booking.confirmed',
                resourceType: 'Appointment',
                resourceId: outcome.appointment.id,
                payload: { bookingId: saga.id, via: 'recovery' },
              },
            ]);
          }
        }
        log.info('finished an abandoned saga');
        return;
      }
      case 'compensating': {
        // Backoff: each failed attempt doubles the wait before the next (the first waited the hold TTL).
        const attempts = saga.request.compensationAttempts ?? 0;
        const wait = ctx.holdTtlMs * 2 ** Math.min(Math.max(attempts - 1, 0), 5);
        if (Date.parse(saga.updatedAt) > ctx.now().getTime() - wait) return;
        await compensate(ctx, tenant, saga, 'finishing an interrupted rollback');
        log.info('finished an interrupted rollback');
        return;
      }
      case 'committed':
      case 'released':
      case 'needs-attention':
        return;
    }
  }
}
