/**
 * Strict writes (issue 14 item 10): invalid resources are refused against the R4 definitions before any booking
 * saga starts — 400 with the element's `expression`, nothing held, nothing written upstream — instead of being
 * silently normalised; unsupported methods answer 405, bodies in other media types 415; `_count` is honoured by
 * every search, the in-memory ones too. Real HTTP, the simulated records system, both dialects.
 */
import type { Appointment, Bundle, OperationOutcome, Parameters } from '@medplum/fhirtypes';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { subscriptionRoutes } from '../../fhir/routes/subscription-routes.js';
import { testStoreFactories, useTestStore } from '../support/test-stores.js';
import { TINY_FIRM } from '../support/tiny-firm.js';
import { loopbackPolicy } from '../support/webhook-fixtures.js';
import {
  failureOutcome,
  fhirRequest,
  monday1030,
  useBookingFacade,
  type BookingFacade,
} from '../booking/support/booking-facade.js';
import { startFacade, type FacadeHarness } from './support/facade-harness.js';

const sagas = (h: BookingFacade) => h.store.db.selectFrom('booking_sagas').selectAll().execute();

describe.each(testStoreFactories)('strict writes ($name)', (factory) => {
  const facade = useBookingFacade(factory);

  it.each([
    ['no status', (a: Appointment) => ({ ...a, status: undefined }), 'Appointment.status', 'structure'],
    [
      'a participant status outside the required value set',
      (a: Appointment) => ({
        ...a,
        participant: [{ ...a.participant[0], status: 'maybe' }, a.participant[1]],
      }),
      'Appointment.participant.status',
      'code-invalid',
    ],
    ['an unknown element', (a: Appointment) => ({ ...a, colour: 'blue' }), 'Appointment.colour', 'structure'],
    [
      'a start without an end',
      (a: Appointment) => ({ ...a, end: undefined }),
      'Appointment.end',
      'invariant',
    ],
    [
      'a day that does not exist',
      (a: Appointment) => ({ ...a, start: '2027-02-30T10:30:00-05:00', end: '2027-02-30T10:45:00-05:00' }),
      'Appointment.start',
      'value',
    ],
  ] as const)(
    'refuses an Appointment with %s: 400 at the element, before any saga',
    async (_what, change, expression, code) => {
      const h = facade();
      const body = change(await monday1030(h)) as unknown as Appointment;
      const answer = await fhirRequest<OperationOutcome>(h, 'POST', 'Appointment', { body });
      expect(answer.status, JSON.stringify(answer.body)).toBe(400);
      expect(answer.body.issue.map((i) => [i.code, i.expression?.[0]])).toContainEqual([code, expression]);
      expect(await sagas(h)).toEqual([]);
      expect(h.upstreamAt('2026-11-23T10:30')).toEqual([]);
      // The same resource inside $book is refused at its place in the Parameters.
      const book = await fhirRequest(h, 'POST', 'Appointment/$book', {
        body: {
          resourceType: 'Parameters',
          parameter: [{ name: 'appointment-resource', resource: body }],
        } as Parameters,
      });
      expect(book.status).toBe(400);
      expect(failureOutcome(book).issue.map((i) => i.expression?.[0])).toContain(
        expression.replace(/^Appointment/, 'Parameters.parameter.resource'),
      );
      expect(await sagas(h)).toEqual([]);
    },
  );

  it('refuses a Patient born on a day that does not exist instead of rolling it over', async () => {
    const h = facade();
    const answer = await fhirRequest<OperationOutcome>(h, 'POST', 'Patient', {
      body: {
        resourceType: 'Patient',
        name: [{ family: 'Nguyen', given: ['Linh'] }],
        birthDate: '1994-02-30',
        gender: 'female',
        telecom: [{ system: 'phone', value: '555-0100' }],
      },
    });
    expect(answer.status).toBe(400);
    expect(answer.body.issue[0]?.expression).toEqual(['Patient.birthDate']);
    expect(h.sync.sim.state(TINY_FIRM).patients.some((p) => p.lastName === 'Nguyen')).toBe(false);
  });

  it('answers 405 with Allow for a method a served path does not take, and 415 for a text/plain body', async () => {
    const h = facade();
    const practitioner = await h.fhirId('Practitioner', 1);
    const deleted = await fhirRequest<OperationOutcome>(h, 'DELETE', `Practitioner/${practitioner}`);
    expect(deleted.status).toBe(405);
    expect(deleted.headers.get('allow')).toContain('GET');
    const put = await fhirRequest(h, 'PUT', `Practitioner/${practitioner}`, {
      body: { resourceType: 'Practitioner' },
    });
    expect(put.status).toBe(405);
    // Still 404 where nothing is served at all.
    expect((await fhirRequest(h, 'DELETE', 'Nothing/here/at/all')).status).toBe(404);

    const text = await fetch(`${h.base}/Appointment`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'book me at ten',
    });
    expect(text.status).toBe(415);
    expect(((await text.json()) as OperationOutcome).resourceType).toBe('OperationOutcome');
  });
});

describe.each(testStoreFactories)('_count everywhere ($name)', (factory) => {
  const db = useTestStore(factory);
  let h: FacadeHarness;
  beforeEach(async () => {
    h = await startFacade({
      store: db().store,
      routes: () => [subscriptionRoutes({ policy: loopbackPolicy(), secretOverlapSeconds: 600 })],
    });
  });
  afterEach(async () => {
    await h.close();
  });

  it('pages the webhook topics (Basic) by _count, with next links through all of them', async () => {
    const all = (await (await fetch(`${h.base}/Basic`)).json()) as Bundle;
    const total = all.total as number;
    expect(total).toBeGreaterThan(2);
    const first = (await (await fetch(`${h.base}/Basic?_count=2`)).json()) as Bundle;
    expect(first.entry).toHaveLength(2);
    expect(first.total).toBe(total);
    const seen = (first.entry ?? []).map((e) => e.resource?.id);
    let next = first.link?.find((l) => l.relation === 'next')?.url;
    while (next) {
      const page = (await (await fetch(next)).json()) as Bundle;
      expect(page.entry?.length).toBeLessThanOrEqual(2);
      seen.push(...(page.entry ?? []).map((e) => e.resource?.id));
      next = page.link?.find((l) => l.relation === 'next')?.url;
    }
    expect(new Set(seen).size).toBe(total);
    const subscriptions = (await (await fetch(`${h.base}/Subscription?_count=0`)).json()) as Bundle;
    expect(subscriptions.entry ?? []).toEqual([]);
  });
});
