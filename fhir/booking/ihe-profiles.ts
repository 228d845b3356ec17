/**
 * The IHE ITI Scheduling (R4) artefacts Switchboard claims (standards.md 1.4; https://profiles.ihe.net/ITI/Scheduling):
 * the server actor's CapabilityStatement (instantiated), the appointment profile (Appointments carry start, end,
 * participants and `requestedPeriod`). The availability Bundle (`ihe-sched-avail-bundle`) `$find`, `$hold` and
 * `$book` answer is named in their OperationDefinitions' documentation: R4's opd-3 allows `targetProfile` only on
 * Reference and canonical parameters.
 */
const IHE_SCHEDULING = 'https://profiles.ihe.net/ITI/Scheduling';

export const IHE_SCHEDULING_SERVER = `${IHE_SCHEDULING}/CapabilityStatement/IHE.Scheduling.server`;
export const IHE_APPOINTMENT_PROFILE = `${IHE_SCHEDULING}/StructureDefinition/ihe-sched-appt`;
