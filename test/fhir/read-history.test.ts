import type { Appointment, Bundle, Patient } from '@medplum/fhirtypes';
import { afterEach, describe, expect, it } from 'vitest';
import { fhirIdsFor } from '../../src/store/upstream-ids.js';
import { expectValidFhir } from '../support/fhir-validators.js';
import { testStoreFactories, useTestStore } from '../support/test-stores.js';
import { TINY_FIRM } from '../support/tiny-firm.js';
import { startFacade, type FacadeHarness } from './support/facade-harness.js';
import {
  expectOutcome,
  fhirGet,
  kit,
  kitNextPage,
  linkOf,
  matches,
  searchBundle,
} from './support/fhir-http.js';

const moveFirstAppointment = {
  patientId: 1,
  providerId: 1,
  locationId: 1,
  appointmentTypeId: 1,
  start: '2026-11-24T15:00',
  durationMinutes: 15,
};

describe.each(testStoreFactories)('read, vread and history over HTTP ($name)', (factory) => {
  const db = useTestStore(factory);
  let h: FacadeHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });
  const start = async () => (h = await startFacade({ store: db().store }));
  const appointmentId = async (facade: FacadeHarness, upstreamId: number) =>
    (await fhirIdsFor(facade.store, TINY_FIRM, 'Appointment', [String(upstreamId)])).get(
      String(upstreamId),
    ) as string;

  it('reads a resource with its ETag and Last-Modified, and answers 304 to a matching If-None-Match', async () => {
    const f = await start();
    const [patient] = matches<Patient>(await searchBundle(f, 'Patient?name=lee'));
    const answer = await fhirGet<Patient>(f, `Patient/${patient?.id}`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
    expect(answer.headers.get('etag')).toBe('W/"1"');
    expect(answer.headers.get('last-modified')).toBe(
      new Date(answer.body.meta?.lastUpdated as string).toUTCString(),
    );
    expect(answer.body).toEqual(patient);

    const notModified = await fetch(`${f.base}/Patient/${patient?.id}`, {
      headers: { 'if-none-match': 'W/"1"' },
    });
    expect(notModified.status).toBe(304);
    expect(
      (await fetch(`${f.base}/Patient/${patient?.id}`, { headers: { 'if-none-match': 'W/"7"' } })).status,
    ).toBe(200);

    const viaKit = (await f.fhirKit.read({ resourceType: 'Patient', id: patient?.id as string })) as Patient;
    expectValidFhir(viaKit);
    expect(viaKit.id).toBe(patient?.id);
    const viaMedplum = await f.medplum.readResource('Patient', patient?.id as string);
    expectValidFhir(viaMedplum);
    expect(viaMedplum.name).toEqual(patient?.name);
  });

  it('answers an unknown id with 404, an unknown type or tenant with 404 OperationOutcomes', async () => {
    const f = await start();
    expect(expectOutcome(await fhirGet(f, 'Patient/no-such-patient'), 404).issue[0]?.code).toBe('not-found');
    expect(expectOutcome(await fhirGet(f, 'Patient/no-such-patient/_history/1'), 404).issue[0]?.code).toBe(
      'not-found',
    );
    expectOutcome(await fhirGet(f, 'Patient/no-such-patient/_history'), 404);
    expect(expectOutcome(await fhirGet(f, 'Observation?code=x'), 404).issue[0]?.code).toBe('not-supported');
    expectOutcome(await fhirGet({ base: `${f.url}/fhir/nobody` }, 'Patient'), 404);
    await expect(f.fhirKit.read({ resourceType: 'Patient', id: 'missing' })).rejects.toMatchObject({
      response: { status: 404 },
    });
    await expect(f.medplum.readResource('Patient', 'missing')).rejects.toThrow();
  });

  it('keeps every version: vread and instance history after the front desk reschedules', async () => {
    const f = await start();
    expect((await f.sync.frontDesk(TINY_FIRM, 'PUT', '/appointments/1', moveFirstAppointment)).status).toBe(
      200,
    );
    await f.syncNow();
    const id = await appointmentId(f, 1);

    const current = await fhirGet<Appointment>(f, `Appointment/${id}`);
    expect(current.headers.get('etag')).toBe('W/"2"');
    expect(current.body.start).toBe('2026-11-24T15:00:00-05:00');

    const v1 = await fhirGet<Appointment>(f, `Appointment/${id}/_history/1`);
    expect([v1.status, v1.headers.get('etag'), v1.body.start, v1.body.meta?.versionId]).toEqual([
      200,
      'W/"1"',
      '2026-11-23T09:00:00-05:00',
      '1',
    ]);
    expect(v1.headers.get('last-modified')).toBeTruthy();
    expectOutcome(await fhirGet(f, `Appointment/${id}/_history/3`), 404);
    expectOutcome(await fhirGet(f, `Appointment/${id}/_history/latest`), 404);

    const viaKit = await kit<Appointment>(f.fhirKit.vread({ resourceType: 'Appointment', id, version: '1' }));
    expectValidFhir(viaKit);
    expect(viaKit.start).toBe('2026-11-23T09:00:00-05:00');
    const viaMedplum = await f.medplum.readVersion('Appointment', id, '2');
    expectValidFhir(viaMedplum);
    expect(viaMedplum.start).toBe('2026-11-24T15:00:00-05:00');

    const history = await kit<Bundle>(f.fhirKit.history({ resourceType: 'Appointment', id }));
    expectValidFhir(history);
    expect(history.type).toBe('history');
    expect(history.total).toBe(2);
    expect(
      history.entry?.map((e) => [e.request?.method, e.response?.etag, (e.resource as Appointment).start]),
    ).toEqual([
      ['PUT', 'W/"2"', '2026-11-24T15:00:00-05:00'],
      ['POST', 'W/"1"', '2026-11-23T09:00:00-05:00'],
    ]);
    const medplumHistory = await f.medplum.readHistory('Appointment', id);
    expectValidFhir(medplumHistory);
    expect(medplumHistory.entry?.map((e) => e.resource?.meta?.versionId)).toEqual(['2', '1']);
  });

  it('answers 410 Gone for an appointment the front desk hard-deleted, and keeps its history', async () => {
    const f = await start();
    expect((await f.sync.frontDesk(TINY_FIRM, 'DELETE', '/appointments/1')).status).toBe(204);
    await f.syncNow();
    const id = await appointmentId(f, 1);

    const gone = expectOutcome(await fhirGet(f, `Appointment/${id}`), 410);
    expect(gone.issue[0]?.code).toBe('deleted');
    await expect(f.fhirKit.read({ resourceType: 'Appointment', id })).rejects.toMatchObject({
      response: { status: 410 },
    });
    expectOutcome(await fhirGet(f, `Appointment/${id}/_history/2`), 410);
    expect((await fhirGet(f, `Appointment/${id}/_history/1`)).status).toBe(200);
    expect(matches(await searchBundle(f, `Appointment?_id=${id}`))).toEqual([]);

    const history = await fhirGet<Bundle>(f, `Appointment/${id}/_history`);
    expect(history.status).toBe(200);
    const [deletion, creation] = history.body.entry ?? [];
    expect(deletion?.request).toEqual({ method: 'DELETE', url: `Appointment/${id}` });
    expect(deletion?.resource).toBeUndefined();
    expect(deletion?.response?.etag).toBe('W/"2"');
    expect(creation?.request?.method).toBe('POST');
  });

  it('pages type history newest first through next links, each version once', async () => {
    const f = await start();
    expect((await f.sync.frontDesk(TINY_FIRM, 'PUT', '/appointments/1', moveFirstAppointment)).status).toBe(
      200,
    );
    await f.syncNow();
    const whole = await kit<Bundle>(f.fhirKit.history({ resourceType: 'Appointment' }));
    expectValidFhir(whole);
    expect(whole.entry).toHaveLength(4);
    const seen: string[] = [];
    let total: number | undefined;
    let pages = 0;
    let page: Bundle | undefined = await kit<Bundle>(f.fhirKit.request('Appointment/_history?_count=2'));
    while (page) {
      expectValidFhir(page);
      total = page.total;
      pages++;
      for (const entry of page.entry ?? []) seen.push(`${entry.resource?.id}@${entry.response?.etag}`);
      page = await kitNextPage(f.fhirKit, page);
    }
    expect(total).toBe(4);
    expect(pages).toBe(2);
    expect(new Set(seen).size).toBe(4);
    expect(seen[0]).toBe(`${await appointmentId(f, 1)}@W/"2"`);

    const since = await fhirGet<Bundle>(
      f,
      `Appointment/_history?_since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`,
    );
    expect(since.body.total).toBe(0);
    expectOutcome(await fhirGet(f, 'Appointment/_history?_since=yesterday'), 400, '_since');
    expectOutcome(
      await fhirGet(f, 'Appointment/_history?_at=2026', { prefer: 'handling=strict' }),
      400,
      '_at',
    );
    const back = await fhirGet<Bundle>(f, linkOf(since.body, 'self') as string);
    expect(back.status).toBe(200);
  });

  it('speaks FHIR JSON only: application/json when asked, _format=json, 406 for anything else', async () => {
    const f = await start();
    const asJson = await fhirGet(f, 'Patient?_count=1', { accept: 'application/json' });
    expect(asJson.headers.get('content-type')).toMatch(/^application\/json/);
    const fhirJson = await fhirGet(f, 'Patient?_count=1', {
      accept: 'application/fhir+json;fhirVersion=4.0',
    });
    expect(fhirJson.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
    expect((await fhirGet(f, 'Patient?_count=1&_format=json')).status).toBe(200);
    expect((await fhirGet(f, 'metadata?_format=application/fhir%2Bjson')).status).toBe(200);
    expectOutcome(await fhirGet(f, 'Patient?_format=xml'), 406, '_format');
    expectOutcome(await fhirGet(f, 'Patient', { accept: 'application/fhir+xml' }), 406);
    const pretty = await fetch(`${f.base}/Patient?_count=1&_pretty=true`);
    expect(await pretty.text()).toContain('\n  "resourceType"');
  });
});
