/**
 * The front desk, for benchmarks: changes made through the simulated records system's own HTTP API, as staff make
 * them (DESIGN.md section 2: external tests act as the front desk through it) — bookings, changes and cancellations
 * of appointments inside the hot window.
 */
import { addDays } from '../src/sim/demo-calendar.js';
import { DEMO_CREDENTIALS, DEMO_FIRM } from '../src/sim/demo-sim.js';
import type { SimAppointment, SimFirmData } from '../src/sim/sim-types.js';

export type ChangeKind = 'book' | 'change' | 'cancel';

/**
 * Front-desk calls on a simulator's own API (`api`: the proprietary one; `fhir`: the FHIR one), with a bearer token
 * from its token endpoint.
 */
export function frontDesk(baseUrl: string, api: 'api' | 'fhir' = 'api') {
  let token: string | undefined;
  const fetchToken = async () => {
    const response = await fetch(`${baseUrl}/firm/${DEMO_FIRM}/oauth/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'password', ...DEMO_CREDENTIALS }),
    });
    if (!response.ok) throw new Error(`token endpoint answered ${response.status}`);
    return ((await response.json()) as { access_token: string }).access_token;
  };
  return async (method: string, path: string, body: unknown): Promise<{ status: number; body: unknown }> => {
    for (let attempt = 0; ; attempt++) {
      token ??= await fetchToken();
      const response = await fetch(`${baseUrl}/firm/${DEMO_FIRM}/${api}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': api === 'fhir' ? 'application/fhir+json' : 'application/json',
        },
        body: JSON.stringify(body),
      });
      const text = await response.text();
      if (response.status === 401 && attempt === 0) {
        token = undefined;
        continue;
      }
      return { status: response.status, body: text ? (JSON.parse(text) as unknown) : undefined };
    }
  };
}

/** Distinct appointments of the hot window to change and cancel, spread over its days. */
export function targets(data: SimFirmData, today: string, hotDays: number, count: number): SimAppointment[] {
  const last = addDays(today, hotDays - 1);
  const candidates = data.appointments.filter((a) => {
    const date = a.start.slice(0, 10);
    return date >= today && date <= last && a.status !== 'cancelled';
  });
  if (candidates.length < count) {
    throw new Error(`the demo hot window holds ${candidates.length} live appointments, ${count} needed`);
  }
  const step = candidates.length / count;
  return Array.from({ length: count }, (_, i) => candidates[Math.floor(i * step)] as SimAppointment);
}

/** The body of a front-desk call of `kind`, the `i`-th of its kind. */
export function request(
  kind: ChangeKind,
  i: number,
  data: SimFirmData,
  today: string,
  hotDays: number,
  target: SimAppointment | undefined,
): { method: string; path: string; body: unknown } {
  if (kind === 'book') {
    const type = data.appointmentTypes[i % data.appointmentTypes.length];
    const provider = data.providers[i % data.providers.length];
    const location = data.locations[i % data.locations.length];
    const patient = data.patients[(i * 37) % data.patients.length];
    if (!type || !provider || !location || !patient)
      throw new Error('the demo practice lacks reference data');
    const minutes = 8 * 60 + ((i * 10) % (9 * 60));
    const time = `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
    return {
      method: 'POST',
      path: '/appointments',
      body: {
        patientId: patient.id,
        providerId: provider.id,
        locationId: location.id,
        appointmentTypeId: type.id,
        start: `${addDays(today, 1 + (i % (hotDays - 2)))}T${time}`,
        durationMinutes: type.durationMinutes,
        notes: 'Booked by phone',
      },
    };
  }
  if (!target) throw new Error('no appointment to change');
  if (kind === 'cancel') {
    return { method: 'POST', path: `/appointments/${target.id}/cancel`, body: { reason: 'Patient called' } };
  }
  const { patientId, providerId, locationId, appointmentTypeId, start, durationMinutes } = target;
  return {
    method: 'PUT',
    path: `/appointments/${target.id}`,
    body: {
      patientId,
      providerId,
      locationId,
      appointmentTypeId,
      start,
      durationMinutes,
      notes: `Front desk note ${i}`,
      ...(target.status === 'scheduled' ? { status: 'confirmed' } : {}),
    },
  };
}
