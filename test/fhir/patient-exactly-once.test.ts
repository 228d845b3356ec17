import type { OperationOutcome, Patient } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { BookingService } from '../../src/booking/booking-service.js';
import { createStoreBookingRules } from '../../src/booking/store-booking-rules.js';
import type { Connector } from '../../src/connectors/connector.js';
import { UpstreamError } from '../../src/connectors/upstream-error.js';
import { createLogger } from '../../src/logger.js';
import { testStoreFactories } from '../support/test-stores.js';
import { TINY_FIRM } from '../support/tiny-firm.js';
import { fhirRequest, useBookingFacade, type BookingFacade } from '../booking/support/booking-facade.js';

const LINH: Patient = {
  resourceType: 'Patient',
  name: [{ family: 'Nguyen', given: ['Linh'] }],
  birthDate: '1994-02-11',
  gender: 'female',
  telecom: [{ system: 'phone', value: '(518) 555-0199' }],
};

const upstreamNguyens = (h: BookingFacade) =>
  h.sync.sim.state(TINY_FIRM).patients.filter((p) => p.lastName === 'Nguyen');

/**
 * The real connector, except that its patient create times out after the records system committed it, and patient
 * searches fail from then on while `searchDown` is set: the create's outcome stays unknown until a search works.
 */
function createTimesOutAfterCommit(real: Connector, state: { searchDown: boolean }): Connector {
  return new Proxy(real, {
    get(target, property) {
      if (property === 'createPatient') {
        return async (patient: Patient) => {
          await target.createPatient(patient);
          // The search before the write worked; the ones after the timed-out write do not (yet).
          state.searchDown = true;
          throw new UpstreamError('timeout', 'records system did not answer', { outcome: 'unknown' });
        };
      }
      if (property === 'findCreatedPatients') {
        return (patient: Patient) => {
          if (state.searchDown) {
            return Promise.reject(new UpstreamError('unavailable', 'records system down'));
          }
          return target.findCreatedPatients(patient);
        };
      }
      const value: unknown = Reflect.get(target, property);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

describe.each(testStoreFactories)('patients exactly once in the records system ($name)', (factory) => {
  const facade = useBookingFacade(factory);

  it('answers 201 with the patient when the records system commits and then fails, and a retry creates no second one', async () => {
    const h = facade();
    h.sync.sim.faults.set({ commitThenFailRate: 1 });
    const first = await fhirRequest<Patient>(h, 'POST', 'Patient', { body: LINH });
    h.sync.sim.faults.clear();
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect(upstreamNguyens(h)).toHaveLength(1);

    const again = await fhirRequest<Patient>(h, 'POST', 'Patient', { body: LINH });
    expect([200, 201]).toContain(again.status);
    expect(again.body.id).toBe(first.body.id);
    expect(upstreamNguyens(h)).toHaveLength(1);
  });

  it('answers 202 registration-pending while a timed-out create cannot be found, then the created patient: never a duplicate', async () => {
    const h = facade();
    const state = { searchDown: false };
    const real = h.sync.connectors[0] as Connector;
    h.useConnector(createTimesOutAfterCommit(real, state));
    const first = await fhirRequest<OperationOutcome>(h, 'POST', 'Patient', {
      body: LINH,
      headers: { 'idempotency-key': '"patient-linh-0001"' },
    });
    expect(first.status, JSON.stringify(first.body)).toBe(202);
    expect(first.body.issue[0]?.details?.coding?.[0]?.code).toBe('registration-pending');
    expect(upstreamNguyens(h)).toHaveLength(1);

    // The same request again, once the records system answers searches: reconciled, not re-sent.
    state.searchDown = false;
    h.useConnector(real);
    const again = await fhirRequest<Patient>(h, 'POST', 'Patient', {
      body: LINH,
      headers: { 'idempotency-key': '"patient-linh-0001"' },
    });
    expect(again.status, JSON.stringify(again.body)).toBe(201);
    expect(again.body).toMatchObject({ resourceType: 'Patient', birthDate: '1994-02-11' });
    expect(upstreamNguyens(h)).toHaveLength(1);
    const third = await fhirRequest<Patient>(h, 'POST', 'Patient', { body: LINH });
    expect(third.status).toBe(200);
    expect(third.body.id).toBe(again.body.id);
    expect(upstreamNguyens(h)).toHaveLength(1);
  });

  it('answers a definite failure when the records system is down, and creates the patient once afterwards', async () => {
    const h = facade();
    h.sync.sim.faults.set({ down: true });
    const first = await fhirRequest<OperationOutcome>(h, 'POST', 'Patient', { body: LINH });
    h.sync.sim.faults.clear();
    expect(first.status).toBe(503);
    expect(upstreamNguyens(h)).toHaveLength(0);
    const again = await fhirRequest<Patient>(h, 'POST', 'Patient', { body: LINH });
    expect(again.status).toBe(201);
    expect(upstreamNguyens(h)).toHaveLength(1);
  });

  it('creates the same patient once when two instances sharing the store register it at the same time', async () => {
    const h = facade();
    h.sync.sim.faults.set({ latencyMs: 30 });
    const second = new BookingService({
      store: h.store,
      tenants: [{ config: h.sync.tenants[0]!, connector: h.sync.connectors[0]! }],
      rules: createStoreBookingRules(h.store),
      logger: createLogger('silent'),
      now: h.sync.clock.now,
      recoveryIntervalMs: 0,
    });
    try {
      const answers = await Promise.all([
        h.booking.registerPatient(TINY_FIRM, LINH),
        second.registerPatient(TINY_FIRM, LINH),
        fhirRequest<Patient>(h, 'POST', 'Patient', { body: LINH }),
      ]);
      const ids = answers.map((a) => ('status' in a ? a.body.id : a.ok ? a.patient.id : undefined));
      expect(new Set(ids).size, JSON.stringify(answers.map((a) => ('status' in a ? a.status : a)))).toBe(1);
      expect(upstreamNguyens(h)).toHaveLength(1);
    } finally {
      await second.stop();
    }
  });
});
