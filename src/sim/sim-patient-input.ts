/**
 * Validation of `POST /patients` and `PUT /patients/{id}` bodies (DESIGN.md section 2: the patient fields without
 * `id`, `mrn` and timestamps). PUT replaces: a nullable field left out is cleared, as it would be on a form.
 */
import type { SimAddress, SimGender, SimPatientInput } from './sim-types.js';
import type { SimBody } from './sim-body-fields.js';
import { asBody, optionalNullableString, requiredString } from './sim-body-fields.js';
import { invalidRequest } from './sim-http-error.js';
import { isCalendarDate } from './sim-query-params.js';

const GENDERS: readonly SimGender[] = ['male', 'female', 'other', 'unknown'];
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/** The validated patient fields of a write body; throws a 400 `SimHttpError` naming the first bad field. */
export function parsePatientInput(rawBody: unknown, today: string): SimPatientInput {
  const body = asBody(rawBody);
  const firstName = requiredString(body, 'firstName');
  const lastName = requiredString(body, 'lastName');
  const dob = requiredString(body, 'dob');
  // A birth date in the future is a typo the front desk screen would refuse too.
  if (!isCalendarDate(dob) || dob > today || dob < '1900-01-01') {
    throw invalidRequest('dob', 'dob must be a past date like 1980-04-17');
  }
  const gender = body.gender;
  if (typeof gender !== 'string' || !GENDERS.includes(gender as SimGender)) {
    throw invalidRequest('gender', `gender must be one of ${GENDERS.join(', ')}`);
  }
  const phone = optionalNullableString(body, 'phone', 40) ?? null;
  if (phone !== null && !/\d/.test(phone)) throw invalidRequest('phone', 'phone must contain digits');
  const email = optionalNullableString(body, 'email', 200) ?? null;
  if (email !== null && !EMAIL.test(email)) throw invalidRequest('email', 'email is not an e-mail address');
  return {
    firstName,
    lastName,
    dob,
    gender: gender as SimGender,
    phone,
    email,
    address: parseAddress(body),
  };
}

function parseAddress(body: SimBody): SimAddress | null {
  const raw = body.address;
  if (raw === undefined || raw === null) return null;
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw invalidRequest('address', 'address must be an object or null');
  }
  const address = raw as SimBody;
  const field = (name: string): string => {
    try {
      return requiredString(address, name);
    } catch {
      throw invalidRequest(`address.${name}`, `address.${name} must be a non-empty string`);
    }
  };
  const line1 = field('line1');
  const line2 = optionalNullableString(address, 'line2', 200);
  return {
    line1,
    ...(line2 ? { line2 } : {}),
    city: field('city'),
    state: field('state'),
    postalCode: field('postalCode'),
  };
}
