import { describe, expect, expectTypeOf, it } from 'vitest';
import type { Interaction } from '../../fhir/access.js';
import {
  grantedPermissions,
  operationPermissions,
  parseScope,
  parseScopes,
  scopeFor,
  scopesAllow,
  type ScopedInteraction,
} from '../../src/auth/smart-scopes.js';
import { INTERACTIONS, LETTER, SCOPE_MATRIX, TYPES } from './scope-matrix.js';

describe('SMART scope grammar', () => {
  // [scope, expected context/type/letters/version, or undefined when the scope must grant nothing]
  const table: Array<[string, [string, string, string, 'v1' | 'v2'] | undefined]> = [
    ['system/Appointment.cruds', ['system', 'Appointment', 'cruds', 'v2']],
    ['system/*.rs', ['system', '*', 'rs', 'v2']],
    ['patient/Appointment.c', ['patient', 'Appointment', 'c', 'v2']],
    ['user/Slot.s', ['user', 'Slot', 's', 'v2']],
    ['system/Patient.cud', ['system', 'Patient', 'cud', 'v2']],
    ['system/Schedule.crs', ['system', 'Schedule', 'crs', 'v2']],
    ['system/Patient.read', ['system', 'Patient', 'rs', 'v1']],
    ['user/Appointment.write', ['user', 'Appointment', 'cud', 'v1']],
    ['patient/*.read', ['patient', '*', 'rs', 'v1']],
    ['system/*.*', ['system', '*', 'cruds', 'v1']],
    ['system/Location.*', ['system', 'Location', 'cruds', 'v1']],
    // Out of order or repeated letters are rejected, not repaired.
    ['system/Appointment.dus', undefined],
    ['system/Appointment.sr', undefined],
    ['system/Appointment.rr', undefined],
    ['system/Appointment.cruds*', undefined],
    // Not a permission at all.
    ['system/Appointment.', undefined],
    ['system/Appointment', undefined],
    ['system/Appointment.x', undefined],
    ['system/Appointment.Read', undefined],
    ['system/Appointment.readwrite', undefined],
    // Unknown context, bad type names, case.
    ['admin/Appointment.cruds', undefined],
    ['System/Appointment.cruds', undefined],
    ['system/appointment.cruds', undefined],
    ['system/Appoint-ment.rs', undefined],
    ['system/.rs', undefined],
    ['system/**.rs', undefined],
    // Filters are not evaluated, so a filtered scope grants nothing rather than everything.
    ['system/Appointment.rs?status=booked', undefined],
    // Whitespace and non-resource scopes.
    [' system/Appointment.rs', undefined],
    ['system/Appointment.rs ', undefined],
    ['openid', undefined],
    ['fhirUser', undefined],
    ['launch/patient', undefined],
    ['offline_access', undefined],
    ['', undefined],
  ];

  it.each(table)('parses %j', (raw, expected) => {
    const scope = parseScope(raw);
    if (expected === undefined) {
      expect(scope).toBeUndefined();
      return;
    }
    const [context, resourceType, letters, version] = expected;
    expect(scope).toEqual({ raw, context, resourceType, permissions: [...letters], version });
  });

  it('parses a space-separated scope string and drops what it cannot parse', () => {
    expect(parseScopes('openid system/Patient.rs  system/Slot.dus system/Slot.s').map((s) => s.raw)).toEqual([
      'system/Patient.rs',
      'system/Slot.s',
    ]);
  });

  it('treats v1 and v2 spellings of the same permissions as equivalent', () => {
    const types = ['Appointment', 'Patient'];
    for (const type of types) {
      expect(grantedPermissions([`system/${type}.read`], type)).toEqual(
        grantedPermissions([`system/${type}.rs`], type),
      );
      expect(grantedPermissions([`system/${type}.write`], type)).toEqual(
        grantedPermissions([`system/${type}.cud`], type),
      );
      expect(grantedPermissions([`system/${type}.*`], type)).toEqual(
        grantedPermissions([`system/${type}.cruds`], type),
      );
    }
  });
});

describe('the scope matrix: resource types × interactions × scopes', () => {
  it.each(SCOPE_MATRIX)('$scopes grants exactly $grants', ({ scopes, grants }) => {
    const wrong: string[] = [];
    for (const type of TYPES) {
      for (const interaction of INTERACTIONS) {
        const expected = (grants[type] ?? '').includes(LETTER[interaction]);
        if (scopesAllow(scopes, type, interaction) !== expected) wrong.push(`${type} ${interaction}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('a wildcard scope also covers resource types not in the list', () => {
    expect(scopesAllow(['system/*.rs'], 'Observation', 'search')).toBe(true);
    expect(scopesAllow(['system/Appointment.rs'], 'Observation', 'search')).toBe(false);
  });

  it('grants nothing on an invalid resource type name', () => {
    expect(scopesAllow(['system/*.cruds'], 'appointment', 'read')).toBe(false);
    expect(scopesAllow(['system/*.cruds'], '', 'read')).toBe(false);
  });
});

describe('operations', () => {
  const book = operationPermissions('cu');

  it('need every permission the operation documents', () => {
    expect(scopesAllow(['system/Appointment.cu'], 'Appointment', 'operation', book)).toBe(true);
    expect(scopesAllow(['system/Appointment.cruds'], 'Appointment', 'operation', book)).toBe(true);
    expect(scopesAllow(['system/Appointment.c', 'system/*.u'], 'Appointment', 'operation', book)).toBe(true);
    expect(scopesAllow(['system/Appointment.c'], 'Appointment', 'operation', book)).toBe(false);
    expect(scopesAllow(['system/Appointment.rs'], 'Appointment', 'operation', book)).toBe(false);
    expect(scopesAllow(['system/Slot.cruds'], 'Appointment', 'operation', book)).toBe(false);
  });

  it('are denied when no requirement is given', () => {
    expect(scopesAllow(['system/*.cruds'], 'Appointment', 'operation')).toBe(false);
    expect(scopesAllow(['system/*.cruds'], 'Appointment', 'operation', [])).toBe(false);
  });

  it('refuse a requirement that is not a subset of cruds in order', () => {
    expect(operationPermissions('s')).toEqual(['s']);
    expect(operationPermissions('cruds')).toEqual(['c', 'r', 'u', 'd', 's']);
    for (const bad of ['', 'uc', 'x', 'read', 'cc'])
      expect(() => operationPermissions(bad)).toThrow(RangeError);
  });

  it('name the scope they need', () => {
    expect(scopeFor('Appointment', book)).toBe('system/Appointment.cu');
    expect(scopeFor('Slot', ['s', 'r'])).toBe('system/Slot.rs');
  });
});

describe('ScopedInteraction', () => {
  it('is the same union as the facade’s Interaction', () => {
    expectTypeOf<ScopedInteraction>().toEqualTypeOf<Interaction>();
  });
});
