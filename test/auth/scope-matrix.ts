/**
 * The scope matrix of reliability.md section 7 row 17, written out by hand from standards.md 7.1 (not derived from
 * the implementation): scope sets and exactly the letters each grants per resource type.
 */
export const TYPES = ['Patient', 'Practitioner', 'Location', 'Schedule', 'Slot', 'Appointment'] as const;
export const INTERACTIONS = [
  'read',
  'vread',
  'history-instance',
  'history-type',
  'search',
  'create',
  'update',
  'patch',
  'delete',
] as const;
/** Written out from standards.md 7.1, not derived from the implementation. */
export const LETTER: Record<(typeof INTERACTIONS)[number], string> = {
  create: 'c',
  read: 'r',
  vread: 'r',
  'history-instance': 'r',
  update: 'u',
  patch: 'u',
  delete: 'd',
  search: 's',
  'history-type': 's',
};

const everyType = (letters: string): Record<string, string> =>
  Object.fromEntries(TYPES.map((type) => [type, letters]));

/** Scope sets and, per resource type, exactly the letters they grant (absent = nothing). */
export const SCOPE_MATRIX: Array<{ scopes: string[]; grants: Record<string, string> }> = [
  { scopes: ['system/Appointment.cruds'], grants: { Appointment: 'cruds' } },
  { scopes: ['system/*.rs'], grants: everyType('rs') },
  { scopes: ['system/*.cruds'], grants: everyType('cruds') },
  { scopes: ['system/*.*'], grants: everyType('cruds') },
  { scopes: ['patient/Patient.read'], grants: { Patient: 'rs' } },
  { scopes: ['user/Slot.write'], grants: { Slot: 'cud' } },
  {
    scopes: ['patient/*.read', 'system/Appointment.write'],
    grants: { ...everyType('rs'), Appointment: 'cruds' },
  },
  { scopes: ['system/Appointment.c', 'system/Appointment.u'], grants: { Appointment: 'cu' } },
  { scopes: ['system/Schedule.s', 'system/*.r'], grants: { ...everyType('r'), Schedule: 'rs' } },
  { scopes: ['system/Practitioner.rs', 'system/Location.r'], grants: { Practitioner: 'rs', Location: 'r' } },
  { scopes: ['system/Appointment.d'], grants: { Appointment: 'd' } },
  { scopes: ['system/Appointment.dus'], grants: {} },
  { scopes: ['system/Appointment.rs?status=booked'], grants: {} },
  { scopes: ['SYSTEM/*.cruds', 'openid', 'system/Patient.'], grants: {} },
  { scopes: [], grants: {} },
];
