/**
 * One firm's (practice's) records as the simulated records system holds them: in memory, seeded from a deep copy,
 * restorable by reset (DESIGN.md section 2). All writes go through here so every one bumps `modifiedAt` with the
 * injectable clock, written as practice-local wall time with seconds.
 */
import { instantToLocalDate, instantToWallTime } from '../wall-time.js';
import type {
  SimAppointment,
  SimAppointmentInput,
  SimAppointmentStatus,
  SimFirmData,
  SimPatient,
  SimPatientInput,
  WallTime,
} from './sim-types.js';

const DEFAULT_MRN_PREFIX = 'RFM';
const MRN_DIGITS = 6;

/** The live records of one firm plus the counters that make new ids and MRNs. */
export class SimFirmState {
  private readonly seed: SimFirmData;
  private liveData!: SimFirmData;
  private nextPatientId = 1;
  private nextAppointmentId = 1;
  private nextMrnNumber = 1;
  private mrnPrefix = DEFAULT_MRN_PREFIX;

  /**
   * @param key the firm's URL name (`riverside` in `/firm/riverside/…`)
   * @param seed the firm's starting records; copied, never mutated
   * @param now the sim's clock
   */
  constructor(
    readonly key: string,
    seed: SimFirmData,
    private readonly now: () => Date,
  ) {
    this.seed = structuredClone(seed);
    this.reset();
  }

  /** The live records. Replaced (not mutated back) by `reset()`, so read it again afterwards. */
  get data(): SimFirmData {
    return this.liveData;
  }

  /** Restores the seeded records and the id and MRN counters. */
  reset(): void {
    this.liveData = structuredClone(this.seed);
    // Counters continue after the seed's highest values; deleted ids are never reused, as in a real database.
    this.nextPatientId = maxId(this.liveData.patients) + 1;
    this.nextAppointmentId = maxId(this.liveData.appointments) + 1;
    const mrns = this.liveData.patients
      .map((p) => /^([A-Za-z]+)(\d+)$/.exec(p.mrn))
      .filter((m) => m !== null);
    this.mrnPrefix = mrns[0]?.[1] ?? DEFAULT_MRN_PREFIX;
    this.nextMrnNumber = mrns.reduce((max, m) => Math.max(max, Number(m[2])), 0) + 1;
  }

  /** Now, as practice-local wall time with seconds: the value of `createdAt`/`modifiedAt`. */
  stamp(): WallTime {
    return instantToWallTime(this.now(), this.liveData.timezone, 'second');
  }

  /** Today's date in the practice's zone. */
  today(): string {
    return instantToLocalDate(this.now(), this.liveData.timezone);
  }

  /** The live patient row, or `undefined`. */
  findPatient(id: number): SimPatient | undefined {
    return this.liveData.patients.find((p) => p.id === id);
  }

  /** The live appointment row, or `undefined`. */
  findAppointment(id: number): SimAppointment | undefined {
    return this.liveData.appointments.find((a) => a.id === id);
  }

  /** Registers a patient with the next id and MRN. */
  createPatient(input: SimPatientInput): SimPatient {
    const at = this.stamp();
    // Tests may push rows into `data` directly; never hand out an id that is already taken.
    this.nextPatientId = Math.max(this.nextPatientId, maxId(this.liveData.patients) + 1);
    const id = this.nextPatientId++;
    const mrn = `${this.mrnPrefix}${String(this.nextMrnNumber++).padStart(MRN_DIGITS, '0')}`;
    const patient: SimPatient = { id, mrn, ...input, createdAt: at, modifiedAt: at };
    this.liveData.patients.push(patient);
    return patient;
  }

  /** Replaces the patient's writable fields; `undefined` when there is no such patient. */
  updatePatient(id: number, input: SimPatientInput): SimPatient | undefined {
    const patient = this.findPatient(id);
    if (!patient) return undefined;
    Object.assign(patient, input, { modifiedAt: this.stamp() });
    return patient;
  }

  /** Books without any conflict check: the records system lets the front desk double-book. */
  createAppointment(input: SimAppointmentInput): SimAppointment {
    const at = this.stamp();
    this.nextAppointmentId = Math.max(this.nextAppointmentId, maxId(this.liveData.appointments) + 1);
    const appointment: SimAppointment = {
      id: this.nextAppointmentId++,
      patientId: input.patientId,
      providerId: input.providerId,
      locationId: input.locationId,
      appointmentTypeId: input.appointmentTypeId,
      start: input.start,
      durationMinutes: input.durationMinutes,
      status: 'scheduled',
      notes: input.notes ?? null,
      externalRef: input.externalRef ?? null,
      createdAt: at,
      modifiedAt: at,
    };
    this.liveData.appointments.push(appointment);
    return appointment;
  }

  /**
   * Reschedules: replaces the required fields; `notes`/`externalRef`/`status` change only when given, so a front
   * desk moving a visit does not wipe the booking system's correlation marker.
   */
  updateAppointment(
    id: number,
    input: SimAppointmentInput,
    status: SimAppointmentStatus | undefined,
  ): SimAppointment | undefined {
    const appointment = this.findAppointment(id);
    if (!appointment) return undefined;
    appointment.patientId = input.patientId;
    appointment.providerId = input.providerId;
    appointment.locationId = input.locationId;
    appointment.appointmentTypeId = input.appointmentTypeId;
    appointment.start = input.start;
    appointment.durationMinutes = input.durationMinutes;
    if (input.notes !== undefined) appointment.notes = input.notes;
    if (input.externalRef !== undefined) appointment.externalRef = input.externalRef;
    if (status !== undefined) {
      appointment.status = status;
      // Reinstating a cancelled visit drops the stale reason.
      if (status !== 'cancelled') delete appointment.cancelReason;
    }
    appointment.modifiedAt = this.stamp();
    return appointment;
  }

  /** Marks the appointment cancelled with `reason`; the row stays. `undefined` when there is no such row. */
  cancelAppointment(id: number, reason: string | null): SimAppointment | undefined {
    const appointment = this.findAppointment(id);
    if (!appointment) return undefined;
    appointment.status = 'cancelled';
    appointment.cancelReason = reason;
    appointment.modifiedAt = this.stamp();
    return appointment;
  }

  /** Hard delete: the row is gone, and nothing (not even `modifiedSince`) will report it. */
  deleteAppointment(id: number): boolean {
    const index = this.liveData.appointments.findIndex((a) => a.id === id);
    if (index < 0) return false;
    this.liveData.appointments.splice(index, 1);
    return true;
  }
}

function maxId(rows: ReadonlyArray<{ id: number }>): number {
  return rows.reduce((max, row) => Math.max(max, row.id), 0);
}
