/**
 * Metrics read from the store at each scrape (issue 15): manual interventions open and new patients awaiting
 * review, per tenant. Counts only; nothing about who.
 */
import { Gauge, type Registry } from 'prom-client';
import { NEEDS_REVIEW_TAG } from '../booking/patient-registration.js';
import { openAttentionTaskCount, taggedPatientCount } from '../store/console-queries.js';
import type { Store } from '../store/database.js';

export function registerStoreGauges(
  registry: Registry,
  tenantIds: readonly string[],
  store: () => Store | undefined,
): void {
  const each = (read: (s: Store, tenant: string) => Promise<number>) =>
    async function (this: Gauge<'tenant'>) {
      const s = store();
      if (!s) return;
      for (const tenant of tenantIds) this.set({ tenant }, await read(s, tenant).catch(() => Number.NaN));
    };
  new Gauge({
    name: 'switchboard_manual_interventions_open',
    help: 'Manual-intervention Tasks open for the practice staff (bookings Switchboard could not finish or undo)',
    labelNames: ['tenant'],
    registers: [registry],
    collect: each((s, tenant) => openAttentionTaskCount(s.db, tenant)),
  });
  new Gauge({
    name: 'switchboard_patients_awaiting_review',
    help: 'Patients created by bookings still tagged needs-review',
    labelNames: ['tenant'],
    registers: [registry],
    collect: each((s, tenant) => taggedPatientCount(s.db, tenant, NEEDS_REVIEW_TAG)),
  });
}
