/**
 * Routes of the FHIR facade as data (Medplum's `fhirrouter.ts` is the model): a method, a path below the tenant
 * base with `:name` segments (and a trailing `*name` for the rest), what body it takes, and the handler. The
 * handler (`fhir/fhir-handler.ts`) dispatches to the first route that matches, in table order, so more specific
 * routes (`Appointment/$find`) come before generic ones (`:type/:id`). Matching follows what the facade's URLs
 * always meant over HTTP: literal segments case-insensitively, an optional trailing slash, parameters decoded.
 */
import type { FhirRequestContext } from './access.js';
import type { FhirResponse, RoutedFhirRequest } from './fhir-request.js';
import type { InteractionDeps } from './interactions/interaction-deps.js';

/** `GET` also answers `HEAD`; `*` is any method. */
export type RouteMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | '*';

export interface FhirRoute {
  method: RouteMethod | readonly RouteMethod[];
  /** Below the tenant base, e.g. `Appointment/:id/$book`; `:type` must name a served resource type. */
  path: string;
  /**
   * The body the route reads: `json` (a FHIR resource or JSON Patch, bounded in size and depth over HTTP) or
   * `form` (the `application/x-www-form-urlencoded` parameters of `POST _search`, as text). Default none.
   */
  body?: 'json' | 'form';
  /** Needs no authenticated client and gets no request id (`metadata`). */
  public?: boolean;
  /** Answers the request; throws a FhirError for an error answer. Must authorize and audit (`audited`). */
  handle(request: RoutedFhirRequest, ctx: FhirRequestContext): Promise<FhirResponse>;
}

/** Builds a route module's routes from what every route uses. */
export type FhirRouteModule = (deps: InteractionDeps) => readonly FhirRoute[];

/** The route of `method` and `path` (below the tenant) and its decoded parameters; undefined when none matches. */
export function matchRoute(
  routes: readonly FhirRoute[],
  method: string,
  path: string,
): { route: FhirRoute; params: Record<string, string> } | undefined {
  const segments = path.replace(/\/$/, '').split('/');
  const verb = method === 'HEAD' ? 'GET' : method;
  for (const route of routes) {
    const methods: readonly RouteMethod[] = typeof route.method === 'string' ? [route.method] : route.method;
    if (!methods.some((m) => m === '*' || m === verb)) continue;
    const params = matchPath(route.path.split('/'), segments);
    if (params) return { route, params };
  }
  return undefined;
}

function matchPath(
  pattern: readonly string[],
  segments: readonly string[],
): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (const [i, part] of pattern.entries()) {
    if (part.startsWith('*')) {
      const rest = segments.slice(i);
      if (rest.length === 0 || rest.some((s) => s === '')) return undefined;
      params[part.slice(1)] = rest.map(decodeSegment).join('/');
      return params;
    }
    const segment = segments[i];
    if (segment === undefined || segment === '') return undefined;
    if (part.startsWith(':')) params[part.slice(1)] = decodeSegment(segment);
    else if (part.toLowerCase() !== segment.toLowerCase()) return undefined;
  }
  return segments.length === pattern.length ? params : undefined;
}

/** A path segment decoded; a malformed one is the 400 HTTP routing has always answered. */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw Object.assign(new URIError(`Failed to decode param '${segment}'`), { status: 400 });
  }
}
