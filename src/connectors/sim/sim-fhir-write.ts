/**
 * FHIR → the simulated records system, for writes: what of a FHIR Patient its `POST/PUT /patients` can hold.
 * The inverse of `mapPatient` for the fields the records system has.
 */
import type { Patient } from '@medplum/fhirtypes';
import type { SimGender, SimPatientInput } from '../../sim/sim-types.js';

export function patientInputFromFhir(patient: Patient): SimPatientInput {
  const name = patient.name?.find((n) => n.use === 'official') ?? patient.name?.[0];
  const phone = patient.telecom?.find((t) => t.system === 'phone' && t.value)?.value ?? null;
  const email = patient.telecom?.find((t) => t.system === 'email' && t.value)?.value ?? null;
  const address = patient.address?.[0];
  return {
    firstName: name?.given?.join(' ') ?? '',
    lastName: name?.family ?? '',
    dob: patient.birthDate ?? '',
    gender: (patient.gender ?? 'unknown') as SimGender,
    phone,
    email,
    address: address
      ? {
          line1: address.line?.[0] ?? '',
          ...(address.line?.[1] ? { line2: address.line[1] } : {}),
          city: address.city ?? '',
          state: address.state ?? '',
          postalCode: address.postalCode ?? '',
        }
      : null,
  };
}
