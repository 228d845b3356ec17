/**
 * SMART Backend Services v2 end to end (issue 14 item 7; standards.md 7.2): a backend client signs its assertion
 * with `jose` (RS384 and ES384), gets a short-lived token from the tenant's token endpoint found through
 * `.well-known/smart-configuration`, and uses it on the FHIR API through the same client registry static tokens go
 * through; the refusals (replay, audience, expiry, future iat/nbf, alg, kid, scope escalation) are one table.
 * Real HTTP, the simulated records system, a store of either dialect.
 */
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { smartRoutes } from '../../fhir/smart/smart-routes.js';
import { createClientRegistry } from '../../src/auth/client-registry.js';
import { createTokenIssuer } from '../../src/auth/smart-token-issuer.js';
import { ConfigError, parseConfig, sha256Hex, type ClientConfig } from '../../src/config.js';
import { testStoreFactories, useTestStore } from '../support/test-stores.js';
import { TINY_FIRM } from '../support/tiny-firm.js';
import { startFacade, type FacadeHarness } from './support/facade-harness.js';

interface Keys {
  privateKey: CryptoKey;
  publicJwk: JWK;
}

async function keys(alg: 'RS384' | 'ES384', kid: string): Promise<Keys> {
  const pair = await generateKeyPair(alg, { extractable: true });
  return { privateKey: pair.privateKey, publicJwk: { ...(await exportJWK(pair.publicKey)), kid, alg } };
}

const [rsa, ec, stranger] = await Promise.all([
  keys('RS384', 'rs-1'),
  keys('ES384', 'es-1'),
  keys('RS384', 'rs-1'), // same kid, other key: a forged signature
]);

const CLIENTS: ClientConfig[] = [
  {
    id: 'backend-rs',
    scopes: ['system/Practitioner.rs', 'system/Appointment.rs'],
    tenants: [TINY_FIRM],
    jwks: { keys: [rsa.publicJwk as Record<string, unknown>] },
  },
  {
    id: 'backend-es',
    scopes: ['system/*.rs'],
    tenants: [TINY_FIRM],
    jwks: { keys: [ec.publicJwk as Record<string, unknown>] },
  },
  {
    id: 'static',
    tokenSha256: sha256Hex('static-token-1'),
    scopes: ['system/*.cruds'],
    tenants: [TINY_FIRM],
  },
];

interface Claims {
  iss?: string;
  sub?: string;
  aud?: string;
  /** Seconds from now. */
  exp?: number;
  iat?: number;
  nbf?: number;
  jti?: string;
}

async function assertion(
  h: FacadeHarness,
  options: { key?: Keys; alg?: 'RS384' | 'ES384'; kid?: string; client?: string; claims?: Claims } = {},
): Promise<string> {
  const key = options.key ?? rsa;
  const client = options.client ?? 'backend-rs';
  const now = Math.floor(Date.now() / 1000);
  const claims = options.claims ?? {};
  const jwt = new SignJWT({ ...(claims.nbf !== undefined ? { nbf: now + claims.nbf } : {}) })
    .setProtectedHeader({ alg: options.alg ?? 'RS384', kid: options.kid ?? 'rs-1', typ: 'JWT' })
    .setIssuer(claims.iss ?? client)
    .setSubject(claims.sub ?? client)
    .setAudience(claims.aud ?? `${h.base}/auth/token`)
    .setIssuedAt(now + (claims.iat ?? 0))
    .setExpirationTime(now + (claims.exp ?? 240))
    .setJti(claims.jti ?? randomUUID());
  return jwt.sign(key.privateKey);
}

async function tokenRequest(
  h: FacadeHarness,
  clientAssertion: string,
  scope: string,
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const response = await fetch(`${h.base}/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: clientAssertion,
      scope,
    }),
  });
  return {
    status: response.status,
    body: (await response.json()) as Record<string, unknown>,
    headers: response.headers,
  };
}

const get = (h: FacadeHarness, path: string, token?: string) =>
  fetch(`${h.base}/${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

/** An unsigned token (`alg: none`), which jose refuses to make. */
function unsigned(h: FacadeHarness): string {
  const now = Math.floor(Date.now() / 1000);
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'none', kid: 'rs-1', typ: 'JWT' })}.${part({
    iss: 'backend-rs',
    sub: 'backend-rs',
    aud: `${h.base}/auth/token`,
    iat: now,
    exp: now + 240,
    jti: randomUUID(),
  })}.`;
}

describe.each(testStoreFactories)('SMART Backend Services ($name)', (factory) => {
  const db = useTestStore(factory);
  let h: FacadeHarness;
  beforeEach(async () => {
    const store = db().store;
    h = await startFacade({
      store,
      clientConfigs: CLIENTS,
      routes: () => [smartRoutes({ issuer: createTokenIssuer({ clients: CLIENTS, store: () => store }) })],
    });
  });
  afterEach(async () => {
    await h.close();
  });

  it('discovers the token endpoint, gets a token with an RS384 assertion and uses it, narrowed to the allowed scopes', async () => {
    const discovery = await get(h, '.well-known/smart-configuration');
    expect(discovery.status).toBe(200);
    expect(discovery.headers.get('content-type')).toMatch(/^application\/json/);
    const configuration = (await discovery.json()) as Record<string, unknown>;
    expect(configuration).toMatchObject({
      token_endpoint: `${h.base}/auth/token`,
      token_endpoint_auth_methods_supported: ['private_key_jwt'],
      grant_types_supported: ['client_credentials'],
    });
    expect(configuration.token_endpoint_auth_signing_alg_values_supported).toEqual(['RS384', 'ES384']);

    const answer = await tokenRequest(h, await assertion(h), 'system/*.cruds');
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(answer.body).toMatchObject({ token_type: 'bearer', expires_in: 300 });
    expect(String(answer.body.scope).split(' ').sort()).toEqual([
      'system/Appointment.rs',
      'system/Practitioner.rs',
    ]);
    const token = answer.body.access_token as string;

    expect((await get(h, 'Practitioner', token)).status).toBe(200);
    expect((await get(h, 'Patient', token)).status).toBe(403);
    expect((await get(h, 'Practitioner')).status).toBe(401);
    expect((await get(h, 'Practitioner', `${token}x`)).status).toBe(401);
    // Static tokens still work beside issued ones.
    expect((await get(h, 'Patient', 'static-token-1')).status).toBe(200);

    // Another instance on the same database accepts the token: it lives in the store, not in memory.
    const elsewhere = await createClientRegistry(CLIENTS, { store: () => h.store }).authenticate(token);
    expect(elsewhere).toMatchObject({ id: 'backend-rs', tenants: [TINY_FIRM] });
    expect(elsewhere?.scopes.sort()).toEqual(['system/Appointment.rs', 'system/Practitioner.rs']);
  });

  it('accepts an ES384 assertion and narrows a wildcard request to the client’s own scopes', async () => {
    const answer = await tokenRequest(
      h,
      await assertion(h, { key: ec, alg: 'ES384', kid: 'es-1', client: 'backend-es' }),
      'system/*.cruds',
    );
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body.scope).toBe('system/*.rs');
    expect((await get(h, 'Patient', answer.body.access_token as string)).status).toBe(200);
  });

  const refusals: Array<{
    name: string;
    make: (h: FacadeHarness) => Promise<string> | string;
    scope?: string;
    status: number;
    error: string;
    why: RegExp;
  }> = [
    {
      name: 'audience of another endpoint',
      make: (h) => assertion(h, { claims: { aud: `${h.url}/token` } }),
      status: 401,
      error: 'invalid_client',
      why: /aud/,
    },
    {
      name: 'expired assertion',
      make: (h) => assertion(h, { claims: { iat: -600, exp: -300 } }),
      status: 401,
      error: 'invalid_client',
      why: /exp/,
    },
    {
      name: 'expiry more than five minutes ahead',
      make: (h) => assertion(h, { claims: { exp: 3600 } }),
      status: 401,
      error: 'invalid_client',
      why: /five minutes/,
    },
    {
      name: 'issued in the future (iat)',
      make: (h) => assertion(h, { claims: { iat: 120, exp: 200 } }),
      status: 401,
      error: 'invalid_client',
      why: /iat/,
    },
    {
      name: 'not valid yet (nbf)',
      make: (h) => assertion(h, { claims: { nbf: 600 } }),
      status: 401,
      error: 'invalid_client',
      why: /nbf/,
    },
    {
      name: 'unknown kid',
      make: (h) => assertion(h, { kid: 'rs-9' }),
      status: 401,
      error: 'invalid_client',
      why: /kid rs-9/,
    },
    { name: 'alg none', make: (h) => unsigned(h), status: 401, error: 'invalid_client', why: /alg none/ },
    {
      name: 'signed by another key under the same kid',
      make: (h) => assertion(h, { key: stranger }),
      status: 401,
      error: 'invalid_client',
      why: /signature/,
    },
    {
      name: 'iss and sub differ',
      make: (h) => assertion(h, { claims: { sub: 'backend-es' } }),
      status: 401,
      error: 'invalid_client',
      why: /unknown client/,
    },
    {
      name: 'a client with a static token only',
      make: (h) => assertion(h, { client: 'static' }),
      status: 401,
      error: 'invalid_client',
      why: /unknown client/,
    },
    {
      name: 'scope escalation (create not allowed)',
      make: (h) => assertion(h),
      scope: 'system/Appointment.c',
      status: 400,
      error: 'invalid_scope',
      why: /none of the requested scopes/,
    },
    {
      name: 'patient/ scope',
      make: (h) => assertion(h),
      scope: 'patient/Appointment.rs',
      status: 400,
      error: 'invalid_scope',
      why: /none of the requested scopes/,
    },
  ];

  it.each(refusals)('refuses $name', async ({ make, scope, status, error, why }) => {
    const answer = await tokenRequest(h, await make(h), scope ?? 'system/Practitioner.rs');
    expect(answer.status, JSON.stringify(answer.body)).toBe(status);
    expect(answer.body.error).toBe(error);
    expect(String(answer.body.error_description)).toMatch(why);
    expect(answer.body.access_token).toBeUndefined();
  });

  it('refuses a replayed assertion (the same jti), also at another instance on the same database', async () => {
    const once = await assertion(h);
    expect((await tokenRequest(h, once, 'system/Practitioner.rs')).status).toBe(200);
    const again = await tokenRequest(h, once, 'system/Practitioner.rs');
    expect(again.status).toBe(401);
    expect(again.body).toMatchObject({ error: 'invalid_client' });
    expect(String(again.body.error_description)).toMatch(/jti/);
    const elsewhere = await createTokenIssuer({ clients: CLIENTS, store: () => h.store }).issue({
      tenantId: TINY_FIRM,
      tokenUrl: `${h.base}/auth/token`,
      form: new Map([
        ['grant_type', 'client_credentials'],
        ['client_assertion_type', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'],
        ['client_assertion', once],
        ['scope', 'system/Practitioner.rs'],
      ]),
    });
    expect(elsewhere.ok).toBe(false);
  });
});

describe('backend clients in the configuration', () => {
  const tenant = {
    id: 'demo',
    connector: { kind: 'sim', baseUrl: 'http://127.0.0.1:4010', firm: 'f', username: 'u', password: 'p' },
  } as const;

  it('takes a client with an inline JWKS and no token', () => {
    const config = parseConfig({
      tenants: [tenant],
      clients: [
        { id: 'backend', jwks: { keys: [rsa.publicJwk] }, scopes: ['system/*.rs'], tenants: ['demo'] },
      ],
    });
    expect(config.clients[0]).toMatchObject({ id: 'backend', jwks: { keys: [{ kid: 'rs-1' }] } });
    expect(config.clients[0]?.tokenSha256).toBeUndefined();
  });

  it('refuses a client with both a JWKS and a static token, and patient/ or user/ scopes, with a clear message', () => {
    expect(() =>
      parseConfig({
        tenants: [tenant],
        clients: [
          {
            id: 'both',
            token: 'static-token-2',
            jwks: { keys: [rsa.publicJwk] },
            scopes: ['system/*.rs'],
            tenants: ['demo'],
          },
        ],
      }),
    ).toThrow(/jwks alone/);
    for (const scope of ['patient/Appointment.rs', 'user/*.read']) {
      expect(() =>
        parseConfig({
          tenants: [tenant],
          clients: [{ id: 'p', token: 'static-token-3', scopes: [scope], tenants: ['demo'] }],
        }),
      ).toThrow(ConfigError);
      expect(() =>
        parseConfig({
          tenants: [tenant],
          clients: [{ id: 'p', token: 'static-token-3', scopes: [scope], tenants: ['demo'] }],
        }),
      ).toThrow(/patient compartment/);
    }
  });
});
