import type { Appointment, OperationOutcome } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { testStoreFactories } from '../support/test-stores.js';
import {
  detailCode,
  expectFailure,
  fhirRequest,
  monday1030,
  useBookingFacade,
  type BookingFacade,
} from '../booking/support/booking-facade.js';

const AGENT = 'agent-token';
const OTHER_AGENT = 'other-agent-token';
const as = (token: string, headers: Record<string, string> = {}) => ({
  authorization: `Bearer ${token}`,
  ...headers,
});

const book = async (h: BookingFacade, token = AGENT, headers: Record<string, string> = {}, patient = 2) =>
  fhirRequest<Appointment>(h, 'POST', 'Appointment', {
    body: await monday1030(h, patient),
    headers: as(token, headers),
  });

/** Every appointment the records system has at Monday 10:30 with Dr. Johnson, cancelled ones too. */
const upstreamWrites = (h: BookingFacade) => h.upstreamAt('2026-11-23T10:30', { includeCancelled: true });

describe.each(testStoreFactories)('an agent retrying a booking without a key ($name)', (factory) => {
  const facade = useBookingFacade(factory, { clients: { agent: AGENT, other: OTHER_AGENT } });

  it('answers the identical request 200 with the appointment already booked, its Location and ETag', async () => {
    const h = facade();
    const first = await book(h);
    expect(first.status, JSON.stringify(first.body)).toBe(201);

    const retry = await book(h);
    expect(retry.status, JSON.stringify(retry.body)).toBe(200);
    expect(retry.body.id).toBe(first.body.id);
    expect(retry.headers.get('location')).toBe(first.headers.get('location'));
    expect(retry.headers.get('etag')).toBe(first.headers.get('etag'));
    expect(upstreamWrites(h)).toHaveLength(1);

    // FHIR's Prefer: return=OperationOutcome: the information issue instead of the resource.
    const outcome = await book(h, AGENT, { prefer: 'return=OperationOutcome' });
    expect(outcome.status, JSON.stringify(outcome.body)).toBe(200);
    expect(outcome.headers.get('location')).toBe(first.headers.get('location'));
    const issue = (outcome.body as unknown as OperationOutcome).issue[0];
    expect(outcome.body.resourceType).toBe('OperationOutcome');
    expect(issue?.severity).toBe('information');
    expect(detailCode(outcome)).toBe('duplicate-request');
    expect(issue?.details?.text).toContain(`Appointment/${first.body.id}`);
    expect(upstreamWrites(h)).toHaveLength(1);
  });

  it('waits for its own booking still in flight and answers its outcome, with one upstream write', async () => {
    const h = facade();
    h.sync.sim.faults.set({ latencyMs: 600 });
    const first = book(h);
    // The agent platform gives up on the tool call and sends the same arguments again while the first runs.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const retry = await book(h);
    const answered = await first;
    expect(answered.status, JSON.stringify(answered.body)).toBe(201);
    expect(retry.status, JSON.stringify(retry.body)).toBe(200);
    expect(retry.body.id).toBe(answered.body.id);
    expect(upstreamWrites(h)).toHaveLength(1);
  });

  it('answers a retry of its own booking still pending 202 with that booking, never a competing 409 or 503', async () => {
    const h = facade();
    h.sync.tenants[0]!.booking.responseDeadlineMs = 200;
    // Upstream calls are slow: the first attempt is still running when both its deadline and the retry's pass.
    h.sync.sim.faults.set({ latencyMs: 700 });
    const first = await book(h);
    expect([first.status, detailCode(first)]).toEqual([202, 'booking-pending']);
    const retry = await book(h);
    expect([retry.status, detailCode(retry)]).toEqual([202, 'booking-pending']);
    // The same booking: the same Location, whose Appointment becomes the booked one.
    expect(retry.headers.get('location')).toBe(first.headers.get('location'));
    const id = (first.headers.get('location') as string).split('/').pop() as string;
    let read = await fhirRequest<Appointment>(h, 'GET', `Appointment/${id}`, { headers: as(AGENT) });
    for (let i = 0; i < 100 && read.body.status === 'pending'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      read = await fhirRequest<Appointment>(h, 'GET', `Appointment/${id}`, { headers: as(AGENT) });
    }
    expect(read.body.status, JSON.stringify(read.body)).toBe('booked');
    expect(upstreamWrites(h)).toHaveLength(1);
  });

  it("refuses another client's identical request and another patient's with 409: not theirs to see", async () => {
    const h = facade();
    const first = await book(h);
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expectFailure(await book(h, OTHER_AGENT), 409, 'slot-taken');
    expectFailure(await book(h, AGENT, {}, 1), 409, 'slot-taken');
    expect(upstreamWrites(h)).toHaveLength(1);
  });
});
