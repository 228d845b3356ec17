import type { Appointment, Patient } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { changeEventType } from '../../sync/change-events.js';

const appt = (status: Appointment['status'], start = '2026-11-24T14:00:00-05:00'): Appointment => ({
  resourceType: 'Appointment',
  id: 'a',
  status,
  start,
  participant: [],
});

describe('changeEventType', () => {
  it.each([
    [undefined, appt('booked'), 'appointment.booked'],
    [undefined, appt('cancelled'), 'appointment.cancelled'],
    [appt('booked'), appt('cancelled'), 'appointment.cancelled'],
    [appt('booked'), appt('noshow'), 'appointment.no-show'],
    [appt('booked'), appt('booked', '2026-11-24T15:00:00-05:00'), 'appointment.changed'],
    [appt('booked'), appt('checked-in'), 'appointment.changed'],
    [appt('booked'), undefined, 'appointment.deleted'],
  ])('names %# for an appointment', (previous, next, expected) => {
    expect(changeEventType(previous, next)).toBe(expected);
  });

  it('names other resources created, changed and deleted', () => {
    const p: Patient = { resourceType: 'Patient', id: 'p' };
    expect(changeEventType(undefined, p)).toBe('patient.created');
    expect(changeEventType(p, { ...p, gender: 'female' })).toBe('patient.changed');
    expect(changeEventType(p, undefined)).toBe('patient.deleted');
  });
});
