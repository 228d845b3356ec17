import type { Appointment } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import type { Connector } from '../../src/connectors/connector.js';
import { testStoreFactories } from '../support/test-stores.js';
import {
  expectFailure,
  fhirRequest,
  useBookingFacade,
  type BookingFacade,
  booked,
  upstreamOfPatient2,
} from '../booking/support/booking-facade.js';

const JSON_PATCH = 'application/json-patch+json';
const CANCEL = [{ op: 'replace', path: '/status', value: 'cancelled' }];
const WRITES = ['createAppointment', 'rescheduleAppointment', 'cancelAppointment'];

/** The real connector, with its upstream writes counted and slowed so concurrent requests overlap in flight. */
function countingWrites(h: BookingFacade): { count: () => number } {
  const real = h.sync.connectors[0] as Connector;
  let writes = 0;
  h.useConnector(
    new Proxy(real, {
      get(target, property) {
        const value: unknown = Reflect.get(target, property);
        if (typeof value !== 'function') return value;
        const fn = (value as (...a: unknown[]) => Promise<unknown>).bind(target);
        if (!WRITES.includes(String(property))) return fn;
        return async (...args: unknown[]) => {
          writes += 1;
          await new Promise((resolve) => setTimeout(resolve, 50));
          return fn(...args);
        };
      },
    }),
  );
  return { count: () => writes };
}

/** Exactly one 200, every other answer 412 `version-conflict`; the winner's answer. */
function oneWinner(answers: Array<{ status: number; body: unknown; headers: Headers }>): Appointment {
  const winners = answers.filter((a) => a.status === 200);
  expect(
    answers.map((a) => a.status).sort(),
    JSON.stringify(answers.filter((a) => a.status !== 200 && a.status !== 412).map((a) => a.body)),
  ).toEqual([200, ...Array<number>(answers.length - 1).fill(412)]);
  for (const loser of answers.filter((a) => a.status !== 200)) expectFailure(loser, 412, 'version-conflict');
  return winners[0]?.body as Appointment;
}

describe.each(testStoreFactories)('If-Match is compare-and-set ($name)', (factory) => {
  const facade = useBookingFacade(factory);

  it('of 10 concurrent reschedules with the same ETag exactly one wins, with one upstream write', async () => {
    const h = facade();
    const { appointment, etag } = await booked(h);
    const writes = countingWrites(h);
    // Ten different free targets: 08:00, 08:15, … 10:15 the Monday after.
    const targets = Array.from({ length: 10 }, (_, i) => {
      const start = new Date(Date.parse('2026-11-30T13:00:00Z') + i * 15 * 60_000);
      return { start: start.toISOString(), end: new Date(start.getTime() + 15 * 60_000).toISOString() };
    });
    const answers = await Promise.all(
      targets.map((t) =>
        fhirRequest<Appointment>(h, 'PUT', `Appointment/${appointment.id}`, {
          body: { ...appointment, start: t.start, end: t.end },
          headers: { 'if-match': etag },
        }),
      ),
    );
    const winner = oneWinner(answers);
    expect(writes.count()).toBe(1);
    const upstream = upstreamOfPatient2(h);
    expect(upstream).toHaveLength(1);
    const stored = await fhirRequest<Appointment>(h, 'GET', `Appointment/${appointment.id}`);
    expect(stored.body.start).toBe(winner.start);
    expect(Date.parse(stored.body.start as string)).toBe(
      Date.parse(`${upstream[0]?.[0] as string}:00-05:00`),
    );
  });

  it('of 10 concurrent cancels (PUT and PATCH) with the same ETag exactly one wins, with one upstream write', async () => {
    const h = facade();
    const { appointment, etag } = await booked(h);
    const writes = countingWrites(h);
    const path = `Appointment/${appointment.id}`;
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        i % 2 === 0
          ? fhirRequest<Appointment>(h, 'PUT', path, {
              body: { ...appointment, status: 'cancelled', cancelationReason: { text: `reason ${i}` } },
              headers: { 'if-match': etag },
            })
          : fhirRequest<Appointment>(h, 'PATCH', path, {
              body: CANCEL,
              contentType: JSON_PATCH,
              headers: { 'if-match': etag },
            }),
      ),
    );
    const winner = oneWinner(answers);
    expect(winner.status).toBe('cancelled');
    expect(writes.count()).toBe(1);
    expect(upstreamOfPatient2(h)).toEqual([['2026-11-23T10:30', 'cancelled']]);
    const stored = await fhirRequest<Appointment>(h, 'GET', path);
    expect([stored.body.status, stored.headers.get('etag')]).toEqual([
      'cancelled',
      `W/"${winner.meta?.versionId}"`,
    ]);
  });
});
