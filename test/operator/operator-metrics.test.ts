/**
 * The store gauges scraped with `/metrics` (issue 15): `switchboard_patients_awaiting_review` follows patients
 * entering review (created tagged needs-review) and leaving it (written back untagged, or deleted), on both dialects.
 */
import type { Patient } from '@medplum/fhirtypes';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { NEEDS_REVIEW_TAG } from '../../src/booking/patient-registration.js';
import { commitChanges } from '../../src/events/change-writer.js';
import { registerStoreGauges } from '../../src/operator/operator-metrics.js';
import { testStoreFactories, useTestStore } from '../support/test-stores.js';

const TENANT = 'clinic';
const OTHER_TENANT = 'other-clinic';

function patient(id: string, extra: Partial<Patient> = {}): Patient & { id: string } {
  return { resourceType: 'Patient', id, name: [{ family: 'Doe', given: [id] }], ...extra };
}
const inReview = (id: string) => patient(id, { meta: { tag: [{ ...NEEDS_REVIEW_TAG }] } });

describe.each(testStoreFactories)('store gauges ($name)', (factory) => {
  const db = useTestStore(factory);

  async function awaitingReview(registry: Registry): Promise<Record<string, number>> {
    const metric = registry.getSingleMetric('switchboard_patients_awaiting_review');
    if (!metric) throw new Error('switchboard_patients_awaiting_review is not registered');
    const { values } = await metric.get();
    return Object.fromEntries(values.map((v) => [String(v.labels.tenant), v.value]));
  }

  it('counts a patient while it awaits review: created tagged, reviewed (written back untagged) or deleted', async () => {
    const { store } = db();
    const registry = new Registry();
    registerStoreGauges(registry, [TENANT, OTHER_TENANT], () => store);
    expect(await awaitingReview(registry)).toEqual({ [TENANT]: 0, [OTHER_TENANT]: 0 });

    await commitChanges(store, TENANT, [
      { op: 'upsert', resource: inReview('p1') },
      { op: 'upsert', resource: inReview('p2') },
      { op: 'upsert', resource: patient('p3') },
    ]);
    await commitChanges(store, OTHER_TENANT, [{ op: 'upsert', resource: inReview('q1') }]);
    expect(await awaitingReview(registry)).toEqual({ [TENANT]: 2, [OTHER_TENANT]: 1 });

    // Staff reviewed p1 in the records system: sync writes it back untagged. p2 is deleted there.
    await commitChanges(store, TENANT, [
      { op: 'upsert', resource: patient('p1', { birthDate: '1970-01-01' }) },
      { op: 'delete', resourceType: 'Patient', id: 'p2' },
    ]);
    expect(await awaitingReview(registry)).toEqual({ [TENANT]: 0, [OTHER_TENANT]: 1 });

    // Back in review (tagged again), and another patient enters it.
    await commitChanges(store, TENANT, [
      { op: 'upsert', resource: inReview('p1') },
      { op: 'upsert', resource: inReview('p4') },
    ]);
    expect(await awaitingReview(registry)).toEqual({ [TENANT]: 2, [OTHER_TENANT]: 1 });
  });

  it('counts only the needs-review tag of Switchboard’s workflow system, not the same code elsewhere', async () => {
    const { store } = db();
    const registry = new Registry();
    registerStoreGauges(registry, [TENANT], () => store);
    const sameCode = { system: 'https://example.org/other-workflow', code: NEEDS_REVIEW_TAG.code };
    await commitChanges(store, TENANT, [
      // The same code under another system, as a tag and as a security label.
      { op: 'upsert', resource: patient('p1', { meta: { tag: [sameCode] } }) },
      { op: 'upsert', resource: patient('p2', { meta: { security: [{ ...NEEDS_REVIEW_TAG }] } }) },
      // The code inside an extension, not in meta.tag.
      {
        op: 'upsert',
        resource: patient('p3', {
          extension: [{ url: 'https://example.org/flag', valueCoding: { ...NEEDS_REVIEW_TAG } }],
        }),
      },
      { op: 'upsert', resource: inReview('p4') },
    ]);
    expect(await awaitingReview(registry)).toEqual({ [TENANT]: 1 });
  });
});
