import type { Appointment, Bundle, OperationOutcome } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { readJournal } from '../../src/store/change-journal.js';
import { testStoreFactories } from '../support/test-stores.js';
import { TINY_FIRM } from '../support/tiny-firm.js';
import {
  expectFailure,
  fhirRequest,
  useBookingFacade,
  booked,
  upstreamOfPatient2,
} from '../booking/support/booking-facade.js';

const JSON_PATCH = 'application/json-patch+json';
const CANCEL = [{ op: 'replace', path: '/status', value: 'cancelled' }];

describe.each(testStoreFactories)('cancelling and rescheduling over FHIR ($name)', (factory) => {
  const facade = useBookingFacade(factory);

  it('cancels by JSON Patch, upstream with the reason given, and answers the new version', async () => {
    const h = facade();
    const { appointment, etag } = await booked(h);
    const answer = await fhirRequest<Appointment>(h, 'PATCH', `Appointment/${appointment.id}`, {
      body: [...CANCEL, { op: 'add', path: '/cancelationReason', value: { text: 'Feeling better' } }],
      contentType: JSON_PATCH,
      headers: { 'if-match': etag },
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body.status).toBe('cancelled');
    expect(answer.headers.get('etag')).toBe(`W/"${answer.body.meta?.versionId}"`);
    expect(answer.headers.get('etag')).not.toBe(etag);
    expect(h.sync.sim.state(TINY_FIRM).appointments.filter((a) => a.patientId === 2)).toMatchObject([
      { start: '2026-11-23T10:30', status: 'cancelled', cancelReason: 'Feeling better' },
    ]);
    expect((await fhirRequest<Appointment>(h, 'GET', `Appointment/${appointment.id}`)).body.status).toBe(
      'cancelled',
    );
    expect(h.audit.at(-2)).toMatchObject({ action: 'patch', resourceType: 'Appointment', status: 200 });

    // Cancelling again: the appointment cannot change any more.
    const again = await fhirRequest(h, 'PATCH', `Appointment/${appointment.id}`, {
      body: CANCEL,
      contentType: JSON_PATCH,
    });
    expectFailure(again, 409, 'invalid-state');
  });

  it('refuses other patches with 422 naming the element, a stale If-Match with 412, and other media types with 415', async () => {
    const h = facade();
    const { appointment, etag } = await booked(h);
    const path = `Appointment/${appointment.id}`;
    const other = await fhirRequest<OperationOutcome>(h, 'PATCH', path, {
      body: [{ op: 'replace', path: '/comment', value: 'hi' }],
      contentType: JSON_PATCH,
    });
    expectFailure(other, 422, 'patch-not-supported');
    expect(other.body.issue[0]?.expression).toEqual(['Appointment.comment']);
    const booked2 = await fhirRequest<OperationOutcome>(h, 'PATCH', path, {
      body: [{ op: 'replace', path: '/status', value: 'noshow' }],
      contentType: JSON_PATCH,
    });
    expectFailure(booked2, 422, 'patch-not-supported');
    expect(booked2.body.issue[0]?.expression).toEqual(['Appointment.status']);
    const stale = await fhirRequest(h, 'PATCH', path, {
      body: CANCEL,
      contentType: JSON_PATCH,
      headers: { 'if-match': etag.replace(/"(\d+)"/, (_m, v: string) => `"${Number(v) + 1}"`) },
    });
    expectFailure(stale, 412, 'version-conflict');
    expectFailure(
      await fhirRequest(h, 'PATCH', path, { body: CANCEL, contentType: 'application/fhir+json' }),
      415,
    );
    expectFailure(
      await fhirRequest(h, 'PATCH', 'Appointment/no-such-appointment', {
        body: CANCEL,
        contentType: JSON_PATCH,
      }),
      404,
      'not-found',
    );
    expect(upstreamOfPatient2(h)).toEqual([['2026-11-23T10:30', 'scheduled']]);
  });

  it('cancels by PUT with If-Match, refusing a stale version (412), a missing one (428) and other changes (422)', async () => {
    const h = facade();
    const { appointment, etag } = await booked(h);
    const path = `Appointment/${appointment.id}`;
    const cancelled = { ...appointment, status: 'cancelled' as const, cancelationReason: { text: 'Travel' } };
    expectFailure(await fhirRequest(h, 'PUT', path, { body: cancelled }), 428, 'if-match-required');
    expectFailure(
      await fhirRequest(h, 'PUT', path, { body: cancelled, headers: { 'if-match': 'W/"99"' } }),
      412,
    );
    const changedMore = await fhirRequest<OperationOutcome>(h, 'PUT', path, {
      body: { ...cancelled, comment: 'and this' },
      headers: { 'if-match': etag },
    });
    expectFailure(changedMore, 422, 'update-not-supported');
    expect(changedMore.body.issue[0]?.expression).toEqual(['Appointment.comment']);
    expect(upstreamOfPatient2(h)).toEqual([['2026-11-23T10:30', 'scheduled']]);

    const answer = await fhirRequest<Appointment>(h, 'PUT', path, {
      body: cancelled,
      headers: { 'if-match': etag },
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body.status).toBe('cancelled');
    expect(h.sync.sim.state(TINY_FIRM).appointments.filter((a) => a.patientId === 2)).toMatchObject([
      { status: 'cancelled', cancelReason: 'Travel' },
    ]);
    // The version just replaced is stale now.
    expectFailure(await fhirRequest(h, 'PUT', path, { body: cancelled, headers: { 'if-match': etag } }), 412);
  });

  it('reschedules by PUT in one upstream write: the patient never has zero or two appointments', async () => {
    const h = facade();
    const { appointment, etag } = await booked(h);
    const moved = {
      ...appointment,
      start: '2026-11-23T10:45:00-05:00',
      end: '2026-11-23T11:00:00-05:00',
    };
    const answer = await fhirRequest<Appointment>(h, 'PUT', `Appointment/${appointment.id}`, {
      body: moved,
      headers: { 'if-match': etag },
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect([answer.body.id, answer.body.start, answer.body.status]).toEqual([
      appointment.id,
      '2026-11-23T10:45:00-05:00',
      'booked',
    ]);
    expect(upstreamOfPatient2(h)).toEqual([['2026-11-23T10:45', 'scheduled']]);
    const events = await readJournal(h.store, TINY_FIRM, { limit: 1000 });
    expect(events.at(-1)?.eventType).toBe('appointment.rescheduled');
  });

  it('refuses a reschedule onto a taken time with 409 and alternatives, leaving the appointment where it was', async () => {
    const h = facade();
    const { appointment, etag } = await booked(h);
    const answer = await fhirRequest<OperationOutcome>(h, 'PUT', `Appointment/${appointment.id}`, {
      // 09:00 is patient 1's appointment.
      body: { ...appointment, start: '2026-11-23T09:00:00-05:00', end: '2026-11-23T09:15:00-05:00' },
      headers: { 'if-match': etag },
    });
    expectFailure(answer, 409, 'slot-taken');
    expect(answer.body.contained?.length).toBeGreaterThan(0);
    expect(upstreamOfPatient2(h)).toEqual([['2026-11-23T10:30', 'scheduled']]);
  });

  it('reschedules and cancels by $book (IHE modify and cancel)', async () => {
    const h = facade();
    const { appointment } = await booked(h);
    const modify = await fhirRequest<Bundle>(h, 'POST', 'Appointment/$book', {
      body: {
        resourceType: 'Parameters',
        parameter: [
          {
            name: 'appointment-resource',
            resource: {
              ...appointment,
              start: '2026-11-23T11:00:00-05:00',
              end: '2026-11-23T11:15:00-05:00',
            },
          },
        ],
      },
    });
    expect(modify.status, JSON.stringify(modify.body)).toBe(200);
    const moved = modify.body.entry?.[0]?.resource as Appointment;
    expect([moved.id, moved.start]).toEqual([appointment.id, '2026-11-23T11:00:00-05:00']);
    expect(upstreamOfPatient2(h)).toEqual([['2026-11-23T11:00', 'scheduled']]);

    // The version the modify saw is stale now.
    const stale = await fhirRequest(h, 'POST', 'Appointment/$book', {
      body: {
        resourceType: 'Parameters',
        parameter: [{ name: 'appointment-resource', resource: { ...appointment, status: 'cancelled' } }],
      },
    });
    expectFailure(stale, 412, 'version-conflict');
    const cancel = await fhirRequest<Bundle>(h, 'POST', 'Appointment/$book', {
      body: {
        resourceType: 'Parameters',
        parameter: [{ name: 'appointment-resource', resource: { ...moved, status: 'cancelled' } }],
      },
    });
    expect(cancel.status, JSON.stringify(cancel.body)).toBe(200);
    expect((cancel.body.entry?.[0]?.resource as Appointment).status).toBe('cancelled');
    expect(upstreamOfPatient2(h)).toEqual([['2026-11-23T11:00', 'cancelled']]);
  });
});
