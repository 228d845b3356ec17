/**
 * Route matching (`fhir/fhir-route.ts`): the patterns are compiled once per route, so the matcher is checked against
 * the rule as written in its header — first route in table order whose method fits (`GET` answers `HEAD`, `*` any)
 * and whose path fits: literals case-insensitively, `:name` one non-empty segment (decoded), a trailing `*name` the
 * non-empty rest (each segment decoded), an optional trailing slash — over seeded random tables and paths.
 */
import { describe, expect, it } from 'vitest';
import { matchRoute, type FhirRoute, type RouteMethod } from '../../fhir/fhir-route.js';
import { createSeededRandom } from '../../src/sim/seeded-random.js';

const handle: FhirRoute['handle'] = () => Promise.reject(new Error('not called'));

function route(method: FhirRoute['method'], path: string): FhirRoute {
  return { method, path, handle };
}

/** The rule, written the plain way: every pattern split and compared afresh. */
function reference(
  routes: readonly FhirRoute[],
  method: string,
  path: string,
): { route: FhirRoute; params: Record<string, string> } | undefined {
  const segments = path.replace(/\/$/, '').split('/');
  const verb = method === 'HEAD' ? 'GET' : method;
  for (const candidate of routes) {
    const methods: readonly RouteMethod[] =
      typeof candidate.method === 'string' ? [candidate.method] : candidate.method;
    if (!methods.some((m) => m === '*' || m === verb)) continue;
    const pattern = candidate.path.split('/');
    const params: Record<string, string> = {};
    let matched = true;
    for (const [i, part] of pattern.entries()) {
      if (part.startsWith('*')) {
        const rest = segments.slice(i);
        if (rest.length === 0 || rest.some((s) => s === '')) matched = false;
        else params[part.slice(1)] = rest.map((s) => decodeURIComponent(s)).join('/');
        break;
      }
      const segment = segments[i];
      if (segment === undefined || segment === '') matched = false;
      else if (part.startsWith(':')) params[part.slice(1)] = decodeURIComponent(segment);
      else if (part.toLowerCase() !== segment.toLowerCase()) matched = false;
      if (!matched) break;
      if (i === pattern.length - 1 && segments.length !== pattern.length) matched = false;
    }
    if (matched) return { route: candidate, params };
  }
  return undefined;
}

const LITERALS = ['Appointment', '$find', '_history', '_search', 'metadata', 'Slot', '$book'];
const METHODS: RouteMethod[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', '*'];
const REQUEST_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
const SEGMENTS = [
  'appointment',
  'APPOINTMENT',
  'Appointment',
  '$find',
  '_HISTORY',
  'p%201',
  'a%2Fb',
  '',
  'x',
  'Slot',
];

describe('matchRoute', () => {
  it('matches literals case-insensitively, decodes parameters and the rest, ignores one trailing slash', () => {
    const routes = [
      route('GET', 'Appointment/$find'),
      route(['GET', 'POST'], ':type/:id/_history/:vid'),
      route('*', 'Binary/*path'),
      route('GET', ':type/:id'),
    ];
    expect(matchRoute(routes, 'HEAD', 'appointment/$FIND/')?.route).toBe(routes[0]);
    expect(matchRoute(routes, 'POST', 'Patient/p%201/_History/2')?.params).toEqual({
      type: 'Patient',
      id: 'p 1',
      vid: '2',
    });
    expect(matchRoute(routes, 'DELETE', 'Binary/a/b%2Fc')?.params).toEqual({ path: 'a/b/c' });
    expect(matchRoute(routes, 'GET', 'Binary')).toBeUndefined();
    expect(matchRoute(routes, 'GET', 'Patient//')).toBeUndefined();
    expect(matchRoute(routes, 'PUT', 'Patient/p1')).toBeUndefined();
  });

  it.each([1, 2, 3])('answers as the rule does over random tables and paths (seed %i)', (seed) => {
    const random = createSeededRandom(seed);
    for (let table = 0; table < 50; table++) {
      const routes = Array.from({ length: random.int(1, 8) }, () => {
        const length = random.int(1, 4);
        const parts = Array.from({ length }, (_, i) => {
          const kind = random.next();
          if (i === length - 1 && kind < 0.15) return `*rest${i}`;
          return kind < 0.5 ? `:p${i}` : random.pick(LITERALS);
        });
        const methods = random.chance(0.3)
          ? [random.pick(METHODS), random.pick(METHODS)]
          : random.pick(METHODS);
        return route(methods, parts.join('/'));
      });
      for (let request = 0; request < 40; request++) {
        const path =
          Array.from({ length: random.int(1, 5) }, () => random.pick(SEGMENTS)).join('/') +
          (random.chance(0.2) ? '/' : '');
        const method = random.pick(REQUEST_METHODS);
        expect(matchRoute(routes, method, path), `${method} ${path}`).toEqual(
          reference(routes, method, path),
        );
      }
    }
  });
});
