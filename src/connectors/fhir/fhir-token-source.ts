/**
 * Access tokens for an upstream FHIR server (issue 12 item 1): the OAuth2 password grant (ModMed), client
 * credentials with `client_secret_basic` or `client_secret_post` (RFC 6749 section 2.3.1), and SMART Backend
 * Services' `private_key_jwt` (a client assertion signed RS384 or ES384 with `jose`, key read from a file).
 * A token is refreshed shortly before it expires, and on demand after a 401 ({@link FhirTokenSource.invalidate}).
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { importJWK, importPKCS8, SignJWT, type CryptoKey, type JWK, type KeyObject } from 'jose';
import type { FhirAuthSettings } from '../../config-fhir-connector.js';
import { UpstreamError } from '../upstream-error.js';

export interface FhirToken {
  accessToken: string;
  refreshToken: string | undefined;
  /** Epoch ms after which the token is renewed before a call. */
  refreshAt: number;
}

/** Sends one form to the token endpoint and answers the raw response (the client adds timeouts and limits). */
export type TokenEndpointCall = (form: URLSearchParams, headers: Record<string, string>) => Promise<Response>;

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export class FhirTokenSource {
  private token: FhirToken | undefined;
  private inFlight: Promise<FhirToken> | undefined;
  private key: Promise<CryptoKey | KeyObject | Uint8Array> | undefined;

  constructor(
    private readonly auth: FhirAuthSettings,
    private readonly call: TokenEndpointCall,
    private readonly now: () => number,
  ) {}

  /** A live token; one renewal at a time however many calls wait for it. */
  async get(): Promise<FhirToken> {
    const current = this.token;
    if (current && current.refreshAt > this.now()) return current;
    this.inFlight ??= this.obtain(current).finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  /** The upstream refused `token` (401): the next {@link get} renews it. */
  invalidate(token: FhirToken): void {
    if (this.token === token) this.token = { ...token, refreshAt: 0 };
  }

  private async obtain(current: FhirToken | undefined): Promise<FhirToken> {
    if (current?.refreshToken) {
      const refreshed = await this.request(
        new URLSearchParams({ grant_type: 'refresh_token', refresh_token: current.refreshToken }),
        this.clientAuthHeaders(),
      ).catch((err: unknown) => {
        if (err instanceof UpstreamError && err.kind === 'unauthorized') return undefined;
        throw err;
      });
      if (refreshed) return (this.token = refreshed);
    }
    const { form, headers } = await this.grantForm();
    return (this.token = await this.request(form, headers));
  }

  private async grantForm(): Promise<{ form: URLSearchParams; headers: Record<string, string> }> {
    const auth = this.auth;
    const form = new URLSearchParams();
    let headers: Record<string, string> = {};
    switch (auth.method) {
      case 'password':
        form.set('grant_type', 'password');
        form.set('username', auth.username);
        form.set('password', auth.password);
        headers = this.clientAuthHeaders();
        break;
      case 'client_secret_basic':
        form.set('grant_type', 'client_credentials');
        headers = this.clientAuthHeaders();
        break;
      case 'client_secret_post':
        form.set('grant_type', 'client_credentials');
        form.set('client_id', auth.clientId);
        form.set('client_secret', auth.clientSecret);
        break;
      case 'private_key_jwt':
        form.set('grant_type', 'client_credentials');
        form.set('client_assertion_type', ASSERTION_TYPE);
        form.set('client_assertion', await this.assertion(auth));
        break;
    }
    if (auth.scope) form.set('scope', auth.scope);
    return { form, headers };
  }

  /** HTTP Basic client authentication, form-encoding id and secret first as RFC 6749 section 2.3.1 asks. */
  private clientAuthHeaders(): Record<string, string> {
    const auth = this.auth;
    const secret =
      auth.method === 'client_secret_basic' || auth.method === 'password' ? auth.clientSecret : undefined;
    if (!('clientId' in auth) || !auth.clientId || secret === undefined) return {};
    const encode = (v: string) => encodeURIComponent(v).replace(/%20/g, '+');
    const basic = Buffer.from(`${encode(auth.clientId)}:${encode(secret)}`).toString('base64');
    return { authorization: `Basic ${basic}` };
  }

  /** SMART Backend Services client assertion: iss = sub = client id, aud = token URL, 5 minutes, unique jti. */
  private async assertion(auth: Extract<FhirAuthSettings, { method: 'private_key_jwt' }>): Promise<string> {
    this.key ??= readPrivateKey(auth.privateKeyFile, auth.algorithm);
    const key = await this.key;
    const nowSeconds = Math.floor(this.now() / 1000);
    return new SignJWT({})
      .setProtectedHeader({ alg: auth.algorithm, typ: 'JWT', ...(auth.keyId ? { kid: auth.keyId } : {}) })
      .setIssuer(auth.clientId)
      .setSubject(auth.clientId)
      .setAudience(auth.tokenUrl)
      .setJti(randomUUID())
      .setIssuedAt(nowSeconds)
      .setExpirationTime(nowSeconds + 300)
      .sign(key);
  }

  private async request(form: URLSearchParams, headers: Record<string, string>): Promise<FhirToken> {
    const response = await this.call(form, headers);
    const text = await response.text().catch(() => '');
    if (response.status === 400 || response.status === 401) {
      throw new UpstreamError('unauthorized', `token request refused: ${oauthError(text)}`, {
        status: response.status,
      });
    }
    if (!response.ok) {
      throw new UpstreamError('unavailable', `token request failed with ${response.status}`, {
        status: response.status,
      });
    }
    const body = JSON.parse(text) as { access_token?: string; refresh_token?: string; expires_in?: number };
    if (!body.access_token) throw new UpstreamError('unavailable', 'token endpoint sent no access_token');
    const lifetimeMs = (body.expires_in ?? 300) * 1000;
    return {
      accessToken: body.access_token,
      refreshToken: body.refresh_token,
      // Renew a little early so a call never starts with a token about to lapse.
      refreshAt: this.now() + Math.max(lifetimeMs - 15_000, lifetimeMs / 2),
    };
  }
}

async function readPrivateKey(
  file: string,
  algorithm: 'RS384' | 'ES384',
): Promise<CryptoKey | KeyObject | Uint8Array> {
  let text: string;
  try {
    text = (await readFile(file, 'utf8')).trim();
  } catch (cause) {
    throw new UpstreamError('unauthorized', `cannot read the private key file ${file}`, { cause });
  }
  return text.startsWith('{') ? importJWK(JSON.parse(text) as JWK, algorithm) : importPKCS8(text, algorithm);
}

function oauthError(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: string; error_description?: string; message?: string };
    return (
      [body.error, body.error_description ?? body.message].filter(Boolean).join(': ') || text.slice(0, 200)
    );
  } catch {
    return text.slice(0, 200) || '(no body)';
  }
}
