import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimFirmData, SimPatient } from '../../src/sim/sim-types.js';
import {
  MCP_DIALECTS,
  frontDesk,
  startMcpDemo,
  type McpDemo,
  type McpTestClient,
} from './support/mcp-demo.js';

// Scripted agent tasks (issue 13, Tests): what an agent on the phone does, through the SDK's MCP client over real
// HTTP against the demo practice, each with the outcome the caller must get. The demo's calendar is generated
// relative to today, so tasks pick their patients and times from the practice's own data, never fixed ids.

interface Candidate {
  patient_id: string;
  name: string;
  birth_date?: string;
  match: 'exact' | 'probable' | 'possible';
}
interface FoundPatients {
  candidates: Candidate[];
  next_step: string;
  birth_date_read_as?: string;
}
interface SlotOut {
  slot_id: string;
  start: string;
  start_local_text: string;
  practitioner: string;
  practitioner_id: string;
  location: string;
  location_id: string;
  appointment_type: string;
}
interface FoundSlots {
  slots: SlotOut[];
  searched: string;
  next_available?: SlotOut;
}
interface Booking {
  status: string;
  appointment_id?: string;
  start?: string;
  reason_code?: string;
  message: string;
  alternatives: SlotOut[];
}

const ZONE = 'America/New_York';
const spokenDob = (dob: string) => DateTime.fromISO(dob).setLocale('en-US').toFormat('LLLL d yyyy');

describe.each(MCP_DIALECTS)('agent tasks over MCP against the demo practice ($dialect)', ({ dialect }) => {
  let demo: McpDemo;
  let agent: McpTestClient;
  let state: () => SimFirmData;
  /** A patient seen before (has appointments) and one never seen, distinct names. */
  let established: SimPatient;
  let newcomer: SimPatient;
  let patientId: (p: SimPatient) => Promise<string>;

  beforeAll(async () => {
    demo = await startMcpDemo({ dialect });
    agent = await demo.client();
    state = () => demo.sim.server.state('riverside');
    const data = state();
    const seen = new Set(data.appointments.map((a) => a.patientId));
    // Synced appointments reach from today on (the hot and warm windows): an established patient the store knows
    // as one has a booking in the next days.
    const today = DateTime.now().setZone(ZONE).toISODate() as string;
    const soon = DateTime.now().setZone(ZONE).plus({ days: 10 }).toISODate() as string;
    const upcoming = new Set(
      data.appointments
        .filter(
          (a) => a.status !== 'cancelled' && a.start.slice(0, 10) > today && a.start.slice(0, 10) < soon,
        )
        .map((a) => a.patientId),
    );
    const unique = (p: SimPatient) =>
      data.patients.filter((q) => q.lastName === p.lastName && q.firstName === p.firstName).length === 1;
    // Letters only, so swapping two of them is a typo, not the same name with its hyphen moved.
    established = data.patients.find(
      (p) =>
        upcoming.has(p.id) &&
        unique(p) &&
        /^[A-Za-z]{5,}$/.test(p.lastName) &&
        /^[A-Za-z]+$/.test(p.firstName),
    ) as SimPatient;
    // Some days' generated year has seen every patient (2026-12-07's does): the newcomer is then registered now,
    // as a caller new to the practice would be.
    newcomer =
      data.patients.find((p) => !seen.has(p.id) && unique(p)) ??
      (await registeredNewcomer(agent, () => state().patients));
    patientId = async (p) => {
      const found = await agent.ok<FoundPatients>('find_patient', {
        name: `${p.firstName} ${p.lastName}`,
        birth_date: p.dob,
      });
      const exact = found.candidates.filter((c) => c.match === 'exact');
      expect(exact).toHaveLength(1);
      return (exact[0] as Candidate).patient_id;
    };
  });
  afterAll(async () => {
    await demo?.stop();
  });

  it('1. tells the caller where and when the practice works, who sees new patients, and what can be booked', async () => {
    const info = await agent.ok<{
      time_zone: string;
      locations: Array<{ name: string; address?: string; hours: string[] }>;
      practitioners: Array<{ name: string; new_patients: string }>;
      appointment_types: Array<{
        code: string;
        name: string;
        minutes: number;
        new_patients_only: boolean;
        offered_by: string[];
      }>;
    }>('practice_info');
    expect(info.time_zone).toBe(ZONE);
    expect(info.locations.map((l) => l.address)).toEqual(
      expect.arrayContaining([
        '120 Main Street, Suite 200, Beacon, NY 12508',
        '45 Northgate Plaza, Fishkill, NY 12524',
      ]),
    );
    expect(info.locations.every((l) => l.hours.length > 0)).toBe(true);
    expect(info.practitioners.map((p) => p.name).sort()).toEqual([
      'Dr. David Williams',
      'Dr. Elena Martinez',
      'Dr. Grace Chen',
      'Dr. Robert Johnson',
    ]);
    // Dr. Johnson sees new patients only on Tuesday afternoons (fixtures/riverside/practice.json).
    expect(info.practitioners.find((p) => p.name === 'Dr. Robert Johnson')?.new_patients).toMatch(
      /^Sees new patients Tue 13:00-17:00 at/,
    );
    expect(info.appointment_types.find((t) => t.code === 'procedure-consult')).toMatchObject({
      name: 'Procedure Consultation',
      minutes: 30,
      new_patients_only: false,
    });
    expect(info.appointment_types.find((t) => t.code === 'procedure-consult')?.offered_by.sort()).toEqual([
      'Dr. Grace Chen',
      'Dr. Robert Johnson',
    ]);
    expect(info.appointment_types.find((t) => t.code === 'new-patient')?.new_patients_only).toBe(true);
  });

  it('2. finds a caller by name and a spoken birth date as the one exact match', async () => {
    const found = await agent.ok<FoundPatients>('find_patient', {
      name: `${established.firstName} ${established.lastName}`,
      birth_date: spokenDob(established.dob),
    });
    expect(found.candidates[0]).toMatchObject({ birth_date: established.dob, match: 'exact' });
    expect(found.candidates.filter((c) => c.match === 'exact')).toHaveLength(1);
  });

  it('3. reads an all-numbers birth date month first, as the US practice writes it, and says so', async () => {
    const [y, m, d] = established.dob.split('-');
    const found = await agent.ok<FoundPatients>('find_patient', {
      family: established.lastName,
      given: established.firstName,
      birth_date: `${m}/${d}/${y}`,
    });
    expect(found.candidates[0]?.match).toBe('exact');
    expect(found.birth_date_read_as).toContain(String(Number(d)));
  });

  it('4. tolerates case, accents and a typo in the family name, but only as probable', async () => {
    const last = established.lastName;
    // Swap two inner letters: "Smith" → "Smiht".
    const typo = last.length > 4 ? `${last.slice(0, 3)}${last[4]}${last[3]}${last.slice(5)}` : `${last}e`;
    const found = await agent.ok<FoundPatients>('find_patient', {
      name: `${established.firstName.toUpperCase()} ${typo.toLowerCase()}`,
      birth_date: established.dob,
    });
    expect(found.candidates.filter((c) => c.match === 'exact')).toEqual([]);
    expect(found.candidates[0]).toMatchObject({ birth_date: established.dob, match: 'probable' });
    expect(found.next_step).toMatch(/confirm|spelling/i);
    const accented = await agent.ok<FoundPatients>('find_patient', {
      name: `${established.firstName.replace(/e/, 'é')} ${last.toUpperCase()}`,
      birth_date: established.dob,
    });
    expect(accented.candidates[0]?.match).toBe('exact');
  });

  it('5. takes a nickname for the given name ("Bob" for Robert)', async () => {
    const nicknames: Record<string, string> = {
      Robert: 'Bob',
      William: 'Bill',
      James: 'Jim',
      Elizabeth: 'Liz',
      Michael: 'Mike',
      Jennifer: 'Jen',
      Thomas: 'Tom',
    };
    const data = state();
    const named = data.patients.find(
      (p) =>
        nicknames[p.firstName] &&
        data.patients.filter((q) => q.lastName === p.lastName && q.dob === p.dob).length === 1,
    ) as SimPatient;
    expect(named).toBeDefined();
    const found = await agent.ok<FoundPatients>('find_patient', {
      name: `${nicknames[named.firstName]} ${named.lastName}`,
      birth_date: named.dob,
    });
    expect(found.candidates[0]).toMatchObject({ birth_date: named.dob, match: 'exact' });
  });

  it('6. tells two John Smiths apart by birth date, asking for it first', async () => {
    const smiths = state().patients.filter((p) => p.firstName === 'John' && p.lastName === 'Smith');
    expect(smiths.length).toBeGreaterThanOrEqual(2);
    const ambiguous = await agent.ok<FoundPatients>('find_patient', { name: 'John Smith' });
    expect(ambiguous.candidates.filter((c) => c.match === 'exact')).toEqual([]);
    expect(ambiguous.candidates.length).toBeGreaterThanOrEqual(2);
    expect(ambiguous.next_step).toMatch(/date of birth/);
    const second = smiths[1] as SimPatient;
    const told = await agent.ok<FoundPatients>('find_patient', {
      name: 'John Smith',
      birth_date: spokenDob(second.dob),
    });
    expect(told.candidates.filter((c) => c.match === 'exact').map((c) => c.birth_date)).toEqual([second.dob]);
  });

  it("7. never offers a different person as exact: the right name with someone else's birth date", async () => {
    const other = state().patients.find(
      (p) => p.dob !== established.dob && p.lastName !== established.lastName,
    ) as SimPatient;
    const found = await agent.ok<FoundPatients>('find_patient', {
      name: `${established.firstName} ${established.lastName}`,
      birth_date: other.dob,
    });
    expect(found.candidates.filter((c) => c.match === 'exact')).toEqual([]);
  });

  it('8. says nobody matches and points to registration when the caller is unknown', async () => {
    const found = await agent.ok<FoundPatients>('find_patient', {
      name: 'Zebulon Quackenbush',
      birth_date: '1961-01-02',
    });
    expect(found.candidates).toEqual([]);
    expect(found.next_step).toMatch(/register_patient/);
  });

  it('9. refuses a birth date it cannot read instead of guessing', async () => {
    const error = await agent.error('find_patient', {
      name: 'John Smith',
      birth_date: 'the fourth of Smarch',
    });
    expect(error).toMatch(/not a birth date I can read/);
  });

  it('10. registers a new patient (flagged for review), finds them again despite a typo, and does not register them twice', async () => {
    const registered = await agent.ok<{ status: string; patient_id: string; needs_review: boolean }>(
      'register_patient',
      {
        name: 'Maribel Okonkwo',
        birth_date: 'February 14, 1990',
        phone: '(845) 555-0199',
      },
    );
    expect(registered).toMatchObject({ status: 'registered', needs_review: true });
    const typo = await agent.ok<FoundPatients>('find_patient', {
      name: 'Maribel Okonkow',
      birth_date: '1990-02-14',
    });
    expect(typo.candidates[0]).toMatchObject({ patient_id: registered.patient_id, match: 'probable' });
    const again = await agent.ok<{ status: string; patient_id: string }>('register_patient', {
      name: 'maribel okonkwo',
      birth_date: '02/14/1990',
    });
    expect(again).toMatchObject({ status: 'existing', patient_id: registered.patient_id });
    expect(state().patients.filter((p) => p.lastName === 'Okonkwo')).toHaveLength(1);
  });

  it('11. does not register a caller who is probably an existing patient until the agent confirms', async () => {
    const before = state().patients.length;
    const answer = await agent.ok<{ status: string; similar: Candidate[] }>('register_patient', {
      name: `${established.firstName} ${established.lastName}x`,
      birth_date: established.dob,
    });
    expect(answer.status).toBe('needs_confirmation');
    expect(answer.similar.map((c) => c.birth_date)).toContain(established.dob);
    expect(state().patients.length).toBe(before);
  });

  it('12. "earliest follow-up with Dr. Chen next week": only Dr. Chen, follow-ups, next week, earliest first', async () => {
    const found = await agent.ok<FoundSlots>('find_slots', {
      appointment_type: 'follow-up',
      practitioner: 'Dr. Chen',
      when: 'next week',
    });
    const monday = DateTime.now().setZone(ZONE).startOf('week').plus({ weeks: 1 });
    expect(found.slots.length).toBeGreaterThan(0);
    for (const s of found.slots) {
      expect(s).toMatchObject({ practitioner: 'Dr. Grace Chen', appointment_type: 'follow-up' });
      const start = DateTime.fromISO(s.start, { zone: ZONE });
      expect(start >= monday && start < monday.plus({ weeks: 1 })).toBe(true);
    }
    const starts = found.slots.map((s) => Date.parse(s.start));
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
    expect(found.searched).toBe(`the week of ${monday.setLocale('en-US').toFormat('cccc, LLLL d')}`);
  });

  it('13. understands "followup" and "Follow-up Visit" as the follow-up type (the FHIR API would find nothing for followup)', async () => {
    for (const said of ['followup', 'Follow-up Visit', 'follow up']) {
      const found = await agent.ok<FoundSlots>('find_slots', {
        appointment_type: said,
        practitioner: 'Chen',
        limit: 1,
      });
      expect(found.slots[0]?.appointment_type).toBe('follow-up');
    }
  });

  it('14. answers an unknown type, practitioner or a type the practitioner does not offer with the valid choices', async () => {
    expect(await agent.error('find_slots', { appointment_type: 'dental cleaning' })).toMatch(
      /no appointment type "dental cleaning".*follow-up \(Follow-up Visit\)/,
    );
    expect(
      await agent.error('find_slots', { appointment_type: 'follow-up', practitioner: 'Dr. Who' }),
    ).toMatch(/no practitioner "Dr. Who".*Dr. Grace Chen/);
    expect(
      await agent.error('find_slots', { appointment_type: 'procedure-consult', practitioner: 'Martinez' }),
    ).toMatch(/does not offer Procedure Consultation.*offered by: .*Dr\. (Robert Johnson|Grace Chen)/);
  });

  it('15. "next Tuesday afternoon" is afternoon times on the coming Tuesday, in the practice\'s zone', async () => {
    const found = await agent.ok<FoundSlots>('find_slots', {
      appointment_type: 'sick visit',
      when: 'next Tuesday afternoon',
    });
    const today = DateTime.now().setZone(ZONE).startOf('day');
    const tuesday = today.plus({ days: (2 - today.weekday + 7) % 7 || 7 });
    expect(found.searched).toBe(`${tuesday.setLocale('en-US').toFormat('cccc, LLLL d')}, afternoon`);
    expect(found.slots.length).toBeGreaterThan(0);
    for (const s of found.slots) {
      const start = DateTime.fromISO(s.start, { zone: ZONE });
      expect(start.toISODate()).toBe(tuesday.toISODate());
      expect(start.hour).toBeGreaterThanOrEqual(12);
      expect(start.hour).toBeLessThan(17);
      expect(s.start_local_text).toMatch(/^Tuesday, .* PM$/);
    }
  });

  it('16. refuses time words it cannot read instead of searching something else', async () => {
    expect(await agent.error('find_slots', { appointment_type: 'follow-up', when: 'when pigs fly' })).toMatch(
      /cannot read "when pigs fly"/,
    );
  });

  it('17. refuses a new-patient visit for a patient who has been seen before, naming the other types', async () => {
    const id = await patientId(established);
    expect(await agent.error('find_slots', { appointment_type: 'new-patient', patient_id: id })).toMatch(
      /only for patients who have never been seen.*follow-up/,
    );
  });

  it('18. books the earliest follow-up, once in the records system, and lists it as upcoming', async () => {
    const id = await patientId(established);
    const { slots } = await agent.ok<FoundSlots>('find_slots', {
      appointment_type: 'follow-up',
      practitioner: 'Williams',
      when: 'earliest',
    });
    const slot = slots[0] as SlotOut;
    const booked = await agent.ok<Booking>('book_appointment', {
      patient_id: id,
      slot_id: slot.slot_id,
      reason: 'Blood pressure check',
    });
    expect(booked).toMatchObject({ status: 'booked', start: slot.start, alternatives: [] });
    expect(booked.message).toContain(slot.start_local_text);
    const upstream = state().appointments.filter(
      (a) => a.patientId === established.id && a.start === slot.start.slice(0, 16),
    );
    expect(upstream).toHaveLength(1);
    const listed = await agent.ok<{
      appointments: Array<{ appointment_id: string; start_local_text: string }>;
    }>('list_appointments', { patient_id: id });
    expect(listed.appointments.map((a) => a.appointment_id)).toContain(booked.appointment_id);

    // 19. A retry after the agent platform's time-out, without a key: the same appointment, not a second one.
    const retried = await agent.ok<Booking>('book_appointment', {
      patient_id: id,
      slot_id: slot.slot_id,
      reason: 'Blood pressure check',
    });
    expect(retried).toMatchObject({ status: 'booked', appointment_id: booked.appointment_id });
    expect(
      state().appointments.filter(
        (a) => a.patientId === established.id && a.start === slot.start.slice(0, 16),
      ),
    ).toHaveLength(1);
  });

  it('20. books once per idempotency_key, however often the call is repeated', async () => {
    const id = await patientId(newcomer);
    const { slots } = await agent.ok<FoundSlots>('find_slots', {
      appointment_type: 'new-patient',
      practitioner: 'Martinez',
      patient_id: id,
    });
    const slot = slots[0] as SlotOut;
    const args = { patient_id: id, slot_id: slot.slot_id, idempotency_key: `agent-call-${dialect}-0000020` };
    const first = await agent.ok<Booking>('book_appointment', args);
    const second = await agent.ok<Booking>('book_appointment', args);
    expect(first.status, JSON.stringify(first)).toBe('booked');
    expect(second).toMatchObject({ status: 'booked', appointment_id: first.appointment_id });
    expect(state().appointments.filter((a) => a.patientId === newcomer.id)).toHaveLength(1);
  });

  it('21. loses a race with the front desk truthfully: not_booked, slot-taken, and other times to offer', async () => {
    const id = await patientId(established);
    const { slots } = await agent.ok<FoundSlots>('find_slots', {
      appointment_type: 'annual physical',
      practitioner: 'Chen',
      when: 'next week',
    });
    const slot = slots[0] as SlotOut;
    const data = state();
    const provider = data.providers.find((p) => p.lastName === 'Chen');
    const location = data.locations.find((l) => slot.location === l.name);
    const type = data.appointmentTypes.find((t) => t.code === 'annual-physical');
    const desk = await frontDesk(demo.sim.url, 'POST', '/appointments', {
      patientId: data.patients.find((p) => p.id !== established.id)?.id,
      providerId: provider?.id,
      locationId: location?.id,
      appointmentTypeId: type?.id,
      start: slot.start.slice(0, 16),
      durationMinutes: 30,
    });
    expect(desk.status).toBe(201);
    const answer = await agent.ok<Booking>('book_appointment', { patient_id: id, slot_id: slot.slot_id });
    expect(answer).toMatchObject({ status: 'not_booked', reason_code: 'slot-taken' });
    expect(answer.alternatives.length).toBeGreaterThan(0);
    expect(answer.alternatives.every((a) => a.slot_id !== slot.slot_id)).toBe(true);
    expect(
      state().appointments.filter(
        (a) => a.patientId === established.id && a.start === slot.start.slice(0, 16),
      ),
    ).toEqual([]);
  });

  it('23. reschedules to another time with the same practitioner, and refuses a move to another practitioner', async () => {
    const id = await patientId(established);
    const { slots } = await agent.ok<FoundSlots>('find_slots', {
      appointment_type: 'follow-up',
      practitioner: 'Martinez',
      when: 'next week',
      limit: 3,
    });
    const [first, later] = slots as [SlotOut, SlotOut];
    const booked = await agent.ok<Booking>('book_appointment', { patient_id: id, slot_id: first.slot_id });
    expect(booked.status, JSON.stringify(booked)).toBe('booked');
    const moved = await agent.ok<Booking>('reschedule_appointment', {
      appointment_id: booked.appointment_id,
      slot_id: later.slot_id,
    });
    expect(moved).toMatchObject({
      status: 'booked',
      appointment_id: booked.appointment_id,
      start: later.start,
    });
    const upstream = state().appointments.filter(
      (a) => a.patientId === established.id && a.status !== 'cancelled',
    );
    expect(upstream.map((a) => a.start)).toContain(later.start.slice(0, 16));
    expect(upstream.map((a) => a.start)).not.toContain(first.start.slice(0, 16));
    const elsewhere = await agent.ok<FoundSlots>('find_slots', {
      appointment_type: 'follow-up',
      practitioner: 'Chen',
      limit: 1,
    });
    expect(
      await agent.error('reschedule_appointment', {
        appointment_id: booked.appointment_id,
        slot_id: elsewhere.slots[0]?.slot_id,
      }),
    ).toMatch(/another practitioner or location/);

    // 24. Cancelling it: cancelled upstream, no longer upcoming.
    const cancelled = await agent.ok<Booking>('cancel_appointment', {
      appointment_id: booked.appointment_id,
      reason: 'Feeling better',
    });
    expect(cancelled.status).toBe('cancelled');
    expect(
      state().appointments.find((a) => a.patientId === established.id && a.start === later.start.slice(0, 16))
        ?.status,
    ).toBe('cancelled');
    const listed = await agent.ok<{ appointments: Array<{ appointment_id: string }> }>('list_appointments', {
      patient_id: id,
    });
    expect(listed.appointments.map((a) => a.appointment_id)).not.toContain(booked.appointment_id);
  });

  it('25. answers not found for an appointment that does not exist, and refuses a made-up slot id', async () => {
    const cancel = await agent.ok<Booking>('cancel_appointment', { appointment_id: 'no-such-appointment' });
    expect(cancel).toMatchObject({ status: 'not_cancelled', reason_code: 'not-found' });
    const id = await patientId(established);
    expect(await agent.error('book_appointment', { patient_id: id, slot_id: 'tomorrow-at-ten' })).toMatch(
      /not a slot_id/,
    );
  });

  it("26. lists a patient's upcoming appointments earliest first, and no past ones for a newcomer", async () => {
    const id = await patientId(established);
    const listed = await agent.ok<{ appointments: Array<{ start: string; practitioner?: string }> }>(
      'list_appointments',
      {
        patient_id: id,
      },
    );
    const upstream = state()
      .appointments.filter(
        (a) => a.patientId === established.id && a.status !== 'cancelled' && Date.parse(a.start) > 0,
      )
      .map((a) => a.start);
    expect(listed.appointments.length).toBeGreaterThan(0);
    for (const a of listed.appointments) expect(upstream).toContain(a.start.slice(0, 16));
    const starts = listed.appointments.map((a) => Date.parse(a.start));
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
    expect(starts.every((s) => s >= Date.now())).toBe(true);
    const past = await agent.call('list_appointments', {
      patient_id: await patientId(newcomer),
      when: 'past',
    });
    expect(past.structuredContent).toEqual({ appointments: [] });
    expect(past.content[0]).toEqual({ type: 'text', text: 'There are no past appointments on record.' });
  });
  it('27. (last: it leaves the circuit breaker open) says the records system is unavailable when it is down, and books nothing', async () => {
    const id = await patientId(established);
    const { slots } = await agent.ok<FoundSlots>('find_slots', {
      appointment_type: 'sick-visit',
      practitioner: 'Johnson',
      when: 'next week',
    });
    const before = state().appointments.length;
    demo.sim.server.faults.set({ down: true });
    try {
      const answer = await agent.ok<Booking>('book_appointment', {
        patient_id: id,
        slot_id: (slots[0] as SlotOut).slot_id,
      });
      expect(answer.status).toBe('not_booked');
      expect(answer.reason_code).toBe('ehr-unavailable');
      expect(answer.message.length).toBeGreaterThan(0);
    } finally {
      demo.sim.server.faults.clear();
    }
    expect(state().appointments.length).toBe(before);
  });
});

/** A patient the records system has never seen, registered through the agent's own tool. */
async function registeredNewcomer(
  agent: McpTestClient,
  patients: () => readonly SimPatient[],
): Promise<SimPatient> {
  const registered = await agent.ok<{ status: string }>('register_patient', {
    name: 'Tobias Wrenfield',
    birth_date: '1988-03-09',
    phone: '(845) 555-0142',
  });
  expect(registered.status).toBe('registered');
  const patient = patients().find((p) => p.firstName === 'Tobias' && p.lastName === 'Wrenfield');
  expect(patient).toBeDefined();
  return patient as SimPatient;
}
