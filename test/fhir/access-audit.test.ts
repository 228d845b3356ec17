import type { Appointment, Patient } from '@medplum/fhirtypes';
import { afterEach, describe, expect, it } from 'vitest';
import { testStoreFactories } from '../support/test-stores.js';
import {
  expectOutcome,
  fhirGet,
  included,
  matches,
  outcomeIssues,
  searchBundle,
  useSyncedFacade,
} from './support/fhir-http.js';

describe.each(testStoreFactories)('access control and audit of FHIR reads ($name)', (factory) => {
  const facade = useSyncedFacade(factory);
  afterEach(() => {
    facade().access.forbidden.clear();
    facade().access.unreadable.clear();
  });
  const lastAudit = () => facade().audit[facade().audit.length - 1];

  it('refuses what AccessControl denies with its 403 before looking anything up, and audits the refusal', async () => {
    const h = facade();
    h.access.forbidden.add('Patient');
    expectOutcome(await fhirGet(h, 'Patient?name=smith'), 403);
    expect(lastAudit()).toEqual({ action: 'search', resourceType: 'Patient', resourceIds: [], status: 403 });
    // A 403, not a 404: the id is never looked up.
    expectOutcome(await fhirGet(h, 'Patient/no-such-patient'), 403);
    expect(lastAudit()).toMatchObject({ action: 'read', status: 403 });
    expectOutcome(await fhirGet(h, 'Patient/_history'), 403);
    expect(lastAudit()).toMatchObject({ action: 'history-type', status: 403 });
    expect((await fhirGet(h, 'Practitioner')).status).toBe(200);
  });

  it('leaves out included resources of types the client may not read, and says so', async () => {
    const h = facade();
    h.access.unreadable.add('Patient');
    const bundle = await searchBundle(
      h,
      'Appointment?date=2026-11-23&_include=Appointment:patient&_include=Appointment:practitioner',
    );
    expect(matches(bundle)).toHaveLength(2);
    expect(included(bundle).map((r) => r.resourceType)).toEqual(['Practitioner', 'Practitioner']);
    expect(outcomeIssues(bundle)).toContainEqual(
      expect.objectContaining({ severity: 'warning', code: 'suppressed', expression: ['_include'] }),
    );
    expect(lastAudit()?.resourceIds).not.toContain(
      (matches<Appointment>(bundle)[0]?.participant[0]?.actor?.reference ?? '').split('/')[1],
    );
  });

  it('audits the id of every resource returned and the names of the parameters, never their values', async () => {
    const h = facade();
    const bundle = await searchBundle(
      h,
      'Appointment?date=2026-11-23&status=booked&_include=Appointment:patient',
    );
    const record = lastAudit();
    expect(record).toMatchObject({ action: 'search', resourceType: 'Appointment', status: 200 });
    expect([...(record?.resourceIds ?? [])].sort()).toEqual(
      [...matches(bundle), ...included(bundle)].map((r) => r.id).sort(),
    );
    expect(record?.parameters).toEqual(['date', 'status', '_include']);
    expect(JSON.stringify(record)).not.toContain('2026-11-23');

    const [patient] = matches<Patient>(await searchBundle(h, 'Patient?name=lee'));
    expect(JSON.stringify(lastAudit())).not.toContain('lee');
    await fhirGet(h, `Patient/${patient?.id}`);
    expect(lastAudit()).toEqual({
      action: 'read',
      resourceType: 'Patient',
      resourceIds: [patient?.id],
      status: 200,
    });
    await fhirGet(h, `Patient/${patient?.id}/_history/1`);
    expect(lastAudit()).toMatchObject({ action: 'vread', resourceIds: [patient?.id], status: 200 });
    await fhirGet(h, `Patient/${patient?.id}/_history`);
    expect(lastAudit()).toMatchObject({
      action: 'history-instance',
      resourceIds: [patient?.id],
      status: 200,
    });
    await fhirGet(h, 'Patient/no-such-patient');
    expect(lastAudit()).toMatchObject({ action: 'read', resourceIds: [], status: 404 });
  });
});
