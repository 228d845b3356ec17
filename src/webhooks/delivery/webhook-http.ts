/**
 * One webhook POST to a URL the endpoint guard has checked (reliability.md section 2, steps 4–6): the connection
 * goes to the PINNED address (node:http/https `lookup` answers with it, so no second DNS lookup can rebind the
 * name), TLS SNI and `Host` stay the host name, redirects are never followed (node:http does not follow them;
 * a 3xx is returned as a status like any other), the response body is read up to a cap and discarded, and a
 * hard deadline covers connect, TLS, upload and response.
 */
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { CheckedEndpoint } from './endpoint-guard.js';

/** What came back, or how it failed. */
export type PostOutcome =
  | { kind: 'response'; status: number; retryAfter: string | undefined; latencyMs: number }
  | { kind: 'error'; error: 'timeout' | 'network'; message: string; latencyMs: number };

/** Options of {@link postWebhook}. */
export interface PostOptions {
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  /** Bytes of response body read before the connection is dropped; default 64 KiB. */
  bodyLimitBytes?: number;
  /** Aborts the request (dispatcher shutdown). */
  signal?: AbortSignal;
}

const DEFAULT_BODY_LIMIT = 64 * 1024;

/**
 * POSTs `body` to `endpoint`. Never throws: network failures and timeouts come back as `{kind: 'error'}`.
 *
 * @see reliability.md section 2
 */
export function postWebhook(endpoint: CheckedEndpoint, options: PostOptions): Promise<PostOutcome> {
  const started = performance.now();
  const latency = () => Math.round(performance.now() - started);
  const limit = options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT;
  const pinned: LookupFunction = (_hostname, lookupOptions, callback) => {
    // Node asks for every address when it races IPv4 and IPv6 (autoSelectFamily); answer in either shape.
    if ((lookupOptions as { all?: boolean }).all) {
      (callback as unknown as (e: null, a: Array<{ address: string; family: number }>) => void)(null, [
        { address: endpoint.address, family: endpoint.family },
      ]);
    } else {
      callback(null, endpoint.address, endpoint.family);
    }
  };
  const transport = endpoint.url.protocol === 'https:' ? https : http;
  return new Promise<PostOutcome>((resolve) => {
    let settled = false;
    const finish = (outcome: PostOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      options.signal?.removeEventListener('abort', onAbort);
      resolve(outcome);
    };
    const request = transport.request({
      method: 'POST',
      protocol: endpoint.url.protocol,
      host: endpoint.hostname,
      servername: endpoint.url.protocol === 'https:' ? endpoint.hostname : undefined,
      port: endpoint.port,
      path: `${endpoint.url.pathname}${endpoint.url.search}`,
      lookup: pinned,
      // A fresh connection per delivery: a pooled socket could have been opened to another pinned address.
      agent: false,
      headers: {
        ...options.headers,
        host: endpoint.url.host,
        'content-length': String(Buffer.byteLength(options.body)),
        connection: 'close',
      },
    });
    const deadline = setTimeout(() => {
      request.destroy();
      finish({
        kind: 'error',
        error: 'timeout',
        message: `no answer within ${options.timeoutMs} ms`,
        latencyMs: latency(),
      });
    }, options.timeoutMs);
    const onAbort = () => {
      request.destroy();
      finish({ kind: 'error', error: 'network', message: 'delivery aborted', latencyMs: latency() });
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    request.on('error', (error) => {
      finish({ kind: 'error', error: 'network', message: describeNetworkError(error), latencyMs: latency() });
    });
    request.on('response', (response) => {
      const status = response.statusCode ?? 0;
      const retryAfter = headerValue(response.headers['retry-after']);
      let read = 0;
      const done = () => {
        finish({ kind: 'response', status, retryAfter, latencyMs: latency() });
      };
      response.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read > limit) {
          // The answer is known; the rest of an oversized body is not worth reading.
          response.destroy();
          request.destroy();
          done();
        }
      });
      response.on('end', done);
      response.on('close', done);
      response.on('error', done);
    });
    request.end(options.body);
  });
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function describeNetworkError(error: Error): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? `${code}: ${error.message}` : error.message;
}
