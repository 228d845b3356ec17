/**
 * HTTP request metrics (issue 15): requests by route template, method and status, with a latency histogram.
 * Routes are templates (`/fhir/{tenant}/Appointment/{id}`), never raw paths: no ids, no query strings (PHI), and
 * anything unknown is `other` so scanners cannot grow the label set.
 */
import type { RequestHandler } from 'express';
import { Counter, Histogram, type Registry } from 'prom-client';
import { endpointTemplate } from '../connectors/upstream-observer.js';

const FIXED = new Set(['/healthz', '/readyz', '/metrics', '/status', '/status/login', '/status/logout']);

/** The route template of a request path. */
export function routeTemplate(path: string): string {
  if (FIXED.has(path)) return path;
  const fhir = /^\/fhir\/[^/]+(\/.*)?$/.exec(path);
  if (fhir) {
    const rest = fhir[1] ?? '';
    if (rest === '' || rest === '/') return '/fhir/{tenant}';
    if (/^\/(metadata|\.well-known\/smart-configuration|auth\/token)$/.test(rest))
      return `/fhir/{tenant}${rest}`;
    const template = endpointTemplate('', rest).slice(1);
    return /^(\/([A-Z][A-Za-z]{1,40}|\{id\}|_history|_search|\$[a-z][A-Za-z-]{0,40})){1,5}$/.test(template)
      ? `/fhir/{tenant}${template}`
      : '/fhir/{tenant}/other';
  }
  if (/^\/mcp\/[^/]+\/?$/.test(path)) return '/mcp/{tenant}';
  return 'other';
}

/** Middleware that counts and times every request. */
export function httpMetrics(registry: Registry): RequestHandler {
  const requests = new Counter({
    name: 'switchboard_http_requests_total',
    help: 'HTTP requests by route template, method and status code',
    labelNames: ['route', 'method', 'status'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'switchboard_http_request_duration_seconds',
    help: 'HTTP request latency by route template and method, until the response was sent',
    labelNames: ['route', 'method'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  return (req, res, next) => {
    const started = performance.now();
    // The path as received: routers mounted further down rewrite `req.url` while they run.
    const path = req.originalUrl.split('?')[0] ?? '';
    res.once('finish', () => {
      const route = routeTemplate(path);
      const method = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'].includes(req.method)
        ? req.method
        : 'other';
      requests.inc({ route, method, status: String(res.statusCode) });
      duration.observe({ route, method }, (performance.now() - started) / 1000);
    });
    next();
  };
}
