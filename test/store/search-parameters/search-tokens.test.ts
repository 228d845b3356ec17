import type { Appointment, Location, Patient, Practitioner, Schedule, Slot } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { searchTokensFor } from '../../../src/store/search-parameters/index-rows.js';
import { foldText } from '../../../src/store/search-parameters/token-values.js';

const valuesOf = (tokens: Array<{ param: string; value: string }>, param: string): string[] =>
  tokens.filter((t) => t.param === param).map((t) => t.value);

describe('foldText', () => {
  it('strips accents and case', () => {
    expect(foldText('José Núñez')).toBe('jose nunez');
    expect(foldText('ÉLODIE Müller-Ångström')).toBe('elodie muller-angstrom');
  });
});

describe('searchTokensFor', () => {
  it('folds patient names into whole, word and full-name tokens', () => {
    const patient: Patient = {
      resourceType: 'Patient',
      name: [{ family: 'Núñez-García', given: ['José', 'María'] }, { text: "Pepe O'Brien" }],
    };
    const tokens = searchTokensFor(patient);
    expect(valuesOf(tokens, 'family')).toEqual(['nunez-garcia', 'nunez', 'garcia', 'nunezgarcia']);
    expect(valuesOf(tokens, 'given')).toEqual(['jose', 'maria']);
    expect(valuesOf(tokens, 'name')).toEqual(
      expect.arrayContaining(['nunez', 'jose', 'jose maria nunez-garcia', "pepe o'brien", 'obrien', 'brien']),
    );
    expect(tokens.every((t) => t.value === foldText(t.value))).toBe(true);
  });

  it('indexes identifiers, phones as digits, emails lower-cased, birth date and gender', () => {
    const patient: Patient = {
      resourceType: 'Patient',
      identifier: [{ system: 'urn:mrn', value: 'MRN-0042' }],
      telecom: [
        { system: 'phone', value: '+1 (555) 010-2000' },
        { system: 'email', value: 'Ana.Smith@Example.org' },
      ],
      birthDate: '1980-02-03',
      gender: 'female',
    };
    const tokens = searchTokensFor(patient);
    expect(valuesOf(tokens, 'identifier')).toEqual(['urn:mrn|MRN-0042', 'MRN-0042']);
    expect(valuesOf(tokens, 'phone')).toEqual(['15550102000', '5550102000']);
    expect(valuesOf(tokens, 'email')).toEqual(['ana.smith@example.org']);
    expect(valuesOf(tokens, 'telecom')).toEqual(['15550102000', '5550102000', 'ana.smith@example.org']);
    expect(valuesOf(tokens, 'birthdate')).toEqual(['1980-02-03']);
    expect(valuesOf(tokens, 'gender')).toEqual(['female']);
  });

  it('indexes practitioner names and NPI', () => {
    const practitioner: Practitioner = {
      resourceType: 'Practitioner',
      identifier: [{ system: 'http://hl7.org/fhir/sid/us-npi', value: '1234567893' }],
      name: [{ family: 'Chén', given: ['Li'], prefix: ['Dr.'] }],
    };
    const tokens = searchTokensFor(practitioner);
    expect(valuesOf(tokens, 'identifier')).toEqual([
      'http://hl7.org/fhir/sid/us-npi|1234567893',
      '1234567893',
    ]);
    expect(valuesOf(tokens, 'family')).toEqual(['chen']);
    expect(valuesOf(tokens, 'name')).toEqual(expect.arrayContaining(['li', 'chen', 'li chen', 'dr']));
  });

  it('indexes location names and aliases', () => {
    const location: Location = { resourceType: 'Location', name: 'Riverside Main', alias: ['Clínica Norte'] };
    expect(valuesOf(searchTokensFor(location), 'name')).toEqual(
      expect.arrayContaining(['riverside main', 'riverside', 'main', 'clinica norte', 'norte']),
    );
  });

  it('indexes schedule actors and service types', () => {
    const schedule: Schedule = {
      resourceType: 'Schedule',
      actor: [{ reference: 'Practitioner/pr1' }, { reference: 'https://x.example/fhir/demo/Location/l1' }],
      serviceType: [{ coding: [{ system: 'urn:types', code: 'follow-up' }] }],
    };
    const tokens = searchTokensFor(schedule);
    expect(valuesOf(tokens, 'actor')).toEqual(['Practitioner/pr1', 'Location/l1']);
    expect(valuesOf(tokens, 'service-type')).toEqual(['urn:types|follow-up', 'follow-up']);
  });

  it('indexes appointment codes, identifiers and participants', () => {
    const appointment: Appointment = {
      resourceType: 'Appointment',
      status: 'booked',
      identifier: [{ system: 'urn:switchboard:booking', value: 'b-1' }],
      appointmentType: { coding: [{ system: 'urn:types', code: 'annual' }] },
      serviceType: [{ coding: [{ code: 'annual-physical' }] }],
      participant: [
        { actor: { reference: 'Patient/p1' }, status: 'accepted' },
        { actor: { reference: 'Practitioner/pr1/_history/2' }, status: 'accepted' },
        { actor: { reference: 'Practitioner/pr2' }, status: 'accepted' },
        { actor: { display: 'no reference' }, status: 'accepted' },
      ],
    };
    const tokens = searchTokensFor(appointment);
    expect(valuesOf(tokens, 'appointment-type')).toEqual(['urn:types|annual', 'annual']);
    expect(valuesOf(tokens, 'service-type')).toEqual(['annual-physical']);
    expect(valuesOf(tokens, 'identifier')).toEqual(['urn:switchboard:booking|b-1', 'b-1']);
    expect(valuesOf(tokens, 'patient')).toEqual(['Patient/p1']);
    expect(valuesOf(tokens, 'practitioner')).toEqual(['Practitioner/pr1', 'Practitioner/pr2']);
    expect(valuesOf(tokens, 'actor')).toEqual(['Patient/p1', 'Practitioner/pr1', 'Practitioner/pr2']);
  });

  it('indexes slot codes, identifiers and schedule', () => {
    const slot: Slot = {
      resourceType: 'Slot',
      identifier: [{ system: 'urn:slots', value: 's-1' }],
      serviceType: [{ coding: [{ system: 'urn:types', code: 'follow-up' }] }],
      serviceCategory: [{ coding: [{ code: 'primary-care' }] }],
      specialty: [{ coding: [{ system: 'urn:specialty', code: 'fm' }] }],
      appointmentType: { coding: [{ code: 'ROUTINE' }] },
      schedule: { reference: 'https://x.example/fhir/demo/Schedule/s' },
      status: 'free',
      start: '2026-11-24T14:00:00Z',
      end: '2026-11-24T14:15:00Z',
    };
    const tokens = searchTokensFor(slot);
    expect(valuesOf(tokens, 'service-type')).toEqual(['urn:types|follow-up', 'follow-up']);
    expect(valuesOf(tokens, 'service-category')).toEqual(['primary-care']);
    expect(valuesOf(tokens, 'specialty')).toEqual(['urn:specialty|fm', 'fm']);
    expect(valuesOf(tokens, 'appointment-type')).toEqual(['ROUTINE']);
    expect(valuesOf(tokens, 'identifier')).toEqual(['urn:slots|s-1', 's-1']);
    expect(valuesOf(tokens, 'schedule')).toEqual(['Schedule/s']);
  });

  it('indexes every part of patient and location addresses as folded text', () => {
    const address = {
      line: ['12 Rue Émile-Zola', 'Apt 3'],
      city: 'Saint-Étienne',
      state: 'NY',
      postalCode: '12207',
      country: 'US',
    };
    const patient: Patient = { resourceType: 'Patient', address: [address] };
    const location: Location = { resourceType: 'Location', name: 'Annex', address };
    for (const tokens of [searchTokensFor(patient), searchTokensFor(location)]) {
      expect(valuesOf(tokens, 'address')).toEqual(
        expect.arrayContaining([
          '12 rue emile-zola',
          'emile',
          'zola',
          'emilezola',
          'apt',
          'saint-etienne',
          'etienne',
          'ny',
          '12207',
          'us',
        ]),
      );
    }
  });

  it('indexes the slots an appointment was booked into', () => {
    const appointment: Appointment = {
      resourceType: 'Appointment',
      status: 'booked',
      slot: [{ reference: 'Slot/sched-1.202611241400.15' }, { display: 'no reference' }],
      participant: [{ actor: { reference: 'Patient/p1' }, status: 'accepted' }],
    };
    expect(valuesOf(searchTokensFor(appointment), 'slot')).toEqual(['Slot/sched-1.202611241400.15']);
  });

  it('gives other resource types no tokens and never repeats a token', () => {
    expect(searchTokensFor({ resourceType: 'Organization', name: 'Riverside' })).toEqual([]);
    const twice: Patient = { resourceType: 'Patient', name: [{ family: 'Smith' }, { family: 'SMITH' }] };
    const keys = searchTokensFor(twice).map((t) => `${t.param}=${t.value}`);
    expect(new Set(keys).size).toBe(keys.length);
  });
});
