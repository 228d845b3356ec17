/**
 * Response bodies are written reusing the text of frozen (shared, immutable) resources: fhir/frozen-json.ts.
 */
import { describe, expect, it } from 'vitest';
import { stringifyReusingFrozen } from '../../fhir/frozen-json.js';
import { deepFreeze } from '../../src/deep-freeze.js';

const slot = (id: string) =>
  deepFreeze({
    resourceType: 'Slot',
    id,
    schedule: { reference: 'Schedule/s1' },
    status: 'free',
    start: '2026-12-07T09:00:00-05:00',
    end: '2026-12-07T09:20:00-05:00',
    serviceType: [{ coding: [{ system: 'urn:types', code: 'follow-up' }] }],
  });

describe('JSON reusing frozen resources', () => {
  it('writes exactly what JSON.stringify writes', () => {
    const body = {
      resourceType: 'Bundle',
      id: 'b',
      meta: { lastUpdated: new Date('2026-12-07T09:00:00Z') },
      type: 'searchset',
      total: 3,
      skipped: undefined,
      link: [{ relation: 'self', url: 'http://x/Slot?a="b"' }],
      entry: [
        { fullUrl: 'http://x/Slot/a', resource: slot('a'), search: { mode: 'match' } },
        { fullUrl: 'http://x/Slot/b', resource: { resourceType: 'Slot', id: 'b', note: 'line\nbreak' } },
        {
          fullUrl: 'urn:uuid:1',
          resource: { resourceType: 'OperationOutcome', issue: [{ severity: 'warning', at: new Date(0) }] },
          search: { mode: 'outcome', nothing: undefined, fn: () => 1 },
        },
        undefined,
      ],
      deep: [[[[{ a: 1, b: [undefined, null] }]]]],
    };
    for (let i = 0; i < 2; i++) expect(stringifyReusingFrozen(body)).toBe(JSON.stringify(body));
    for (const value of [null, 1, 'text', [], {}, [undefined], new Date(0), slot('c')])
      expect(stringifyReusingFrozen(value)).toBe(JSON.stringify(value));
  });

  it('writes a resource that is not frozen afresh each time, so a change to it shows', () => {
    const resource: { resourceType: string; id: string; status: string } = {
      resourceType: 'Slot',
      id: 'm',
      status: 'free',
    };
    const body = { resourceType: 'Bundle', entry: [{ resource }] };
    expect(stringifyReusingFrozen(body)).toContain('"status":"free"');
    resource.status = 'busy';
    expect(stringifyReusingFrozen(body)).toContain('"status":"busy"');
    expect(stringifyReusingFrozen(body)).toBe(JSON.stringify(body));
  });

  it('writes a shallowly frozen resource afresh each time: only deepFreeze says nothing in it can change', () => {
    const period = { start: '2026-12-07T09:00:00-05:00' };
    const resource = Object.freeze({ resourceType: 'Slot', id: 'f', period });
    const body = { entry: [{ resource }] };
    expect(stringifyReusingFrozen(body)).toBe(JSON.stringify(body));
    period.start = '2026-12-08T09:00:00-05:00';
    expect(stringifyReusingFrozen(body)).toBe(JSON.stringify(body));
  });

  it('writes a changed frozen resource, a new object, with its own text', () => {
    const before = slot('s');
    const after = deepFreeze({ ...before, status: 'busy' });
    expect(stringifyReusingFrozen({ entry: [{ resource: before }] })).toContain('"status":"free"');
    expect(stringifyReusingFrozen({ entry: [{ resource: after }] })).toContain('"status":"busy"');
  });
});
