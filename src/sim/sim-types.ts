/**
 * The simulated records system's data model: the wire shapes of its proprietary (non-FHIR) API.
 * DESIGN.md section 2 fixes these field names; external tests act as the front desk through them.
 *
 * Every date-time is practice-local wall time with no offset (`"2026-11-24T14:00"`, or with seconds for
 * `createdAt`/`modifiedAt`), every date `"YYYY-MM-DD"`, every id a number.
 */

/** Practice-local wall time without offset: `YYYY-MM-DDTHH:mm` or `YYYY-MM-DDTHH:mm:ss`. */
export type WallTime = string;

export interface SimAddress {
  line1: string;
  line2?: string;
  city: string;
  state: string;
  postalCode: string;
}

export interface SimProvider {
  id: number;
  firstName: string;
  lastName: string;
  npi: string;
  specialty: string;
  active: boolean;
}

export interface SimLocation {
  id: number;
  name: string;
  address: SimAddress;
  phone: string;
  /** IANA time zone the location's wall times are in. */
  timezone: string;
}

export interface SimAppointmentType {
  id: number;
  code: string;
  name: string;
  durationMinutes: number;
  /** Providers who may be booked for this type. */
  providerIds: number[];
  /** Bookable only for patients with no earlier visit at the practice. */
  newPatientOnly: boolean;
}

/** Weekly working hours of one provider at one location. */
export interface SimTemplate {
  id: number;
  providerId: number;
  locationId: number;
  /** ISO weekday: 1 = Monday … 7 = Sunday. */
  weekday: number;
  /** `HH:mm`, practice-local. */
  start: string;
  /** `HH:mm`, practice-local, exclusive. */
  end: string;
  /** When present, only these appointment types may be booked in this window. */
  appointmentTypeIds?: number[];
}

/** A closure, vacation, meeting or extended lunch. `providerId: null` closes the whole practice (or location). */
export interface SimBlock {
  id: number;
  providerId: number | null;
  /** `null` = every location. */
  locationId: number | null;
  start: WallTime;
  end: WallTime;
  reason: string;
}

export type SimGender = 'male' | 'female' | 'other' | 'unknown';

export interface SimPatient {
  id: number;
  mrn: string;
  firstName: string;
  lastName: string;
  /** `YYYY-MM-DD` */
  dob: string;
  gender: SimGender;
  phone: string | null;
  email: string | null;
  address: SimAddress | null;
  createdAt: WallTime;
  modifiedAt: WallTime;
}

/** Body of `POST /patients` and `PUT /patients/{id}`. */
export type SimPatientInput = Omit<SimPatient, 'id' | 'mrn' | 'createdAt' | 'modifiedAt'>;

export const SIM_APPOINTMENT_STATUSES = [
  'scheduled',
  'confirmed',
  'checked-in',
  'completed',
  'cancelled',
  'no-show',
] as const;
export type SimAppointmentStatus = (typeof SIM_APPOINTMENT_STATUSES)[number];

export interface SimAppointment {
  id: number;
  patientId: number;
  providerId: number;
  locationId: number;
  appointmentTypeId: number;
  start: WallTime;
  durationMinutes: number;
  status: SimAppointmentStatus;
  notes: string | null;
  /** Stored verbatim; searchable with `?externalRef=`. Switchboard puts its correlation marker here. */
  externalRef: string | null;
  /** Present once cancelled. */
  cancelReason?: string | null;
  createdAt: WallTime;
  modifiedAt: WallTime;
}

/** Body of `POST /appointments` and `PUT /appointments/{id}`. */
export interface SimAppointmentInput {
  patientId: number;
  providerId: number;
  locationId: number;
  appointmentTypeId: number;
  start: WallTime;
  durationMinutes: number;
  notes?: string | null;
  externalRef?: string | null;
}

export interface SimPage<T> {
  items: T[];
  page: number;
  pageSize: number;
  total: number;
}

/** Everything one firm (practice) holds; what a seed provides and what the sim keeps in memory. */
export interface SimFirmData {
  name: string;
  /** The practice's own zone: the one its wall times (including `modifiedSince`) are read in. */
  timezone: string;
  providers: SimProvider[];
  locations: SimLocation[];
  appointmentTypes: SimAppointmentType[];
  templates: SimTemplate[];
  blocks: SimBlock[];
  patients: SimPatient[];
  appointments: SimAppointment[];
}

/** `POST /_sim/faults` body; every field optional, omitted fields keep their value. */
export interface SimFaults {
  latencyMs: number;
  jitterMs: number;
  /** Probability (0–1) that a call answers 500 without doing anything. */
  errorRate: number;
  /** Probability (0–1) that a call never answers (the connection hangs until the client gives up). */
  timeoutRate: number;
  /** Probability (0–1) that a write commits and then the connection drops or answers 500. */
  commitThenFailRate: number;
  rateLimitPerMinute: number;
  /** Every call answers 503. */
  down: boolean;
}
