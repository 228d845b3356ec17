/**
 * A tiny practice for the simulated records system's tests: small enough to reason about row by row, with the
 * awkward cases the real demo practice has (two John Smiths, accented and hyphenated names, a practice-wide
 * closure, a booked history). Wall times are America/New_York.
 */
import type { SimFirmData, SimPatient } from '../../src/sim/sim-types.js';

export const TINY_FIRM = 'tiny';
export const TINY_USERNAME = 'switchboard';
export const TINY_PASSWORD = 'demo-password';

/**
 * The front desk's booking, in the records system's own API, of the time the booking tests' patient 2 asks for:
 * Monday 2026-11-23 10:30, a 15-minute follow-up with Dr. Johnson, for patient 1.
 */
export const FRONT_DESK_MONDAY_1030 = Object.freeze({
  patientId: 1,
  providerId: 1,
  locationId: 1,
  appointmentTypeId: 1,
  start: '2026-11-23T10:30',
  durationMinutes: 15,
});

/** A fresh copy of the tiny practice's records. */
export function tinyFirm(): SimFirmData {
  const address = { line1: '1 River Road', city: 'Albany', state: 'NY', postalCode: '12207' };
  const patient = (
    p: Omit<SimPatient, 'email' | 'address' | 'createdAt' | 'modifiedAt'>,
    at: string,
  ): SimPatient => ({
    ...p,
    email: null,
    address: null,
    createdAt: at,
    modifiedAt: at,
  });
  return {
    name: 'Tiny Family Practice',
    timezone: 'America/New_York',
    providers: [
      {
        id: 1,
        firstName: 'Ana',
        lastName: 'Johnson',
        npi: '1234567893',
        specialty: 'Family Medicine',
        active: true,
      },
      {
        id: 2,
        firstName: 'Luis',
        lastName: 'Martínez',
        npi: '1245319599',
        specialty: 'Internal Medicine',
        active: true,
      },
    ],
    locations: [
      { id: 1, name: 'Main Street Clinic', address, phone: '518-555-0100', timezone: 'America/New_York' },
      {
        id: 2,
        name: 'Riverside Annex',
        address: { ...address, line1: '9 Annex Way', line2: 'Suite 2' },
        phone: '518-555-0200',
        timezone: 'America/New_York',
      },
    ],
    appointmentTypes: [
      {
        id: 1,
        code: 'FU',
        name: 'Follow-up',
        durationMinutes: 15,
        providerIds: [1, 2],
        newPatientOnly: false,
      },
      {
        id: 2,
        code: 'NP',
        name: 'New patient visit',
        durationMinutes: 45,
        providerIds: [1],
        newPatientOnly: true,
      },
    ],
    templates: [
      { id: 1, providerId: 1, locationId: 1, weekday: 1, start: '08:00', end: '12:00' },
      {
        id: 2,
        providerId: 1,
        locationId: 1,
        weekday: 2,
        start: '13:00',
        end: '17:00',
        appointmentTypeIds: [2],
      },
      { id: 3, providerId: 2, locationId: 2, weekday: 1, start: '09:00', end: '17:00' },
      { id: 4, providerId: 2, locationId: 2, weekday: 3, start: '09:00', end: '12:00' },
    ],
    blocks: [
      {
        id: 1,
        providerId: 1,
        locationId: null,
        start: '2026-11-16T00:00',
        end: '2026-11-21T00:00',
        reason: 'Vacation',
      },
      {
        id: 2,
        providerId: null,
        locationId: null,
        start: '2026-11-26T00:00',
        end: '2026-11-27T00:00',
        reason: 'Thanksgiving',
      },
      {
        id: 3,
        providerId: 2,
        locationId: 2,
        start: '2026-11-23T12:00',
        end: '2026-11-23T14:00',
        reason: 'Staff meeting',
      },
    ],
    patients: [
      patient(
        {
          id: 1,
          mrn: 'RFM000001',
          firstName: 'John',
          lastName: 'Smith',
          dob: '1970-01-15',
          gender: 'male',
          phone: '(518) 555-0001',
        },
        '2026-10-01T09:00:00',
      ),
      patient(
        {
          id: 2,
          mrn: 'RFM000002',
          firstName: 'John',
          lastName: 'Smith',
          dob: '1985-06-30',
          gender: 'male',
          phone: '518.555.0002',
        },
        '2026-10-02T09:00:00',
      ),
      patient(
        {
          id: 3,
          mrn: 'RFM000003',
          firstName: 'José',
          lastName: 'Álvarez-Núñez',
          dob: '1990-03-03',
          gender: 'male',
          phone: null,
        },
        '2026-10-03T09:00:00',
      ),
      patient(
        {
          id: 4,
          mrn: 'RFM000004',
          firstName: 'Zoë',
          lastName: "O'Brien",
          dob: '2001-12-24',
          gender: 'female',
          phone: '+1 518 555 0004',
        },
        '2026-10-04T09:00:00',
      ),
      patient(
        {
          id: 5,
          mrn: 'RFM000005',
          firstName: 'Mary-Kate',
          lastName: 'Lee',
          dob: '1962-07-04',
          gender: 'female',
          phone: '518-555-0005',
        },
        '2026-10-05T09:00:00',
      ),
    ],
    appointments: [
      {
        id: 1,
        patientId: 1,
        providerId: 1,
        locationId: 1,
        appointmentTypeId: 1,
        start: '2026-11-23T09:00',
        durationMinutes: 15,
        status: 'scheduled',
        notes: null,
        externalRef: null,
        createdAt: '2026-10-10T10:00:00',
        modifiedAt: '2026-10-10T10:00:00',
      },
      {
        id: 2,
        patientId: 3,
        providerId: 2,
        locationId: 2,
        appointmentTypeId: 1,
        start: '2026-11-23T10:00',
        durationMinutes: 15,
        status: 'confirmed',
        notes: 'Bring insurance card',
        externalRef: 'sb:seeded-0001',
        createdAt: '2026-10-11T10:00:00',
        modifiedAt: '2026-10-12T10:00:00',
      },
      {
        id: 3,
        patientId: 1,
        providerId: 2,
        locationId: 2,
        appointmentTypeId: 1,
        start: '2026-10-05T08:30',
        durationMinutes: 15,
        status: 'completed',
        notes: null,
        externalRef: null,
        createdAt: '2026-09-20T10:00:00',
        modifiedAt: '2026-10-05T09:00:00',
      },
      {
        id: 4,
        patientId: 1,
        providerId: 1,
        locationId: 1,
        appointmentTypeId: 1,
        start: '2026-11-30T11:00',
        durationMinutes: 15,
        status: 'cancelled',
        notes: null,
        externalRef: null,
        cancelReason: 'Patient request',
        createdAt: '2026-10-13T10:00:00',
        modifiedAt: '2026-10-14T10:00:00',
      },
    ],
  };
}
