/**
 * OAuth-style tokens of the simulated records system (DESIGN.md section 2): password and refresh-token grants,
 * opaque tokens bound to one firm, access tokens that expire on the injectable clock, refresh tokens that are
 * single-use and rotate. Expiry is the point: Switchboard must notice 401 and refresh without losing work.
 */
import { randomBytes } from 'node:crypto';
import { SimHttpError } from './sim-http-error.js';

/** A username/password pair the records system accepts for a firm. */
export interface SimCredential {
  username: string;
  password: string;
}

/** The token endpoint's success body. */
export interface SimTokenGrant {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token: string;
}

/** Default access-token lifetime. */
export const SIM_DEFAULT_TOKEN_TTL_SECONDS = 300;
/** Unused refresh tokens lapse after a day so a long-running sim does not keep every one it ever issued. */
const REFRESH_TOKEN_TTL_MS = 24 * 60 * 60 * 1000;

interface IssuedToken {
  firm: string;
  username: string;
  expiresAtMs: number;
}

/** Issues and checks tokens for every firm of one sim. */
export class SimTokenStore {
  private readonly accessTokens = new Map<string, IssuedToken>();
  private readonly refreshTokens = new Map<string, IssuedToken>();

  constructor(
    private readonly credentials: ReadonlyMap<string, readonly SimCredential[]>,
    private readonly now: () => Date,
    private readonly ttlSeconds: number = SIM_DEFAULT_TOKEN_TTL_SECONDS,
  ) {}

  /** `grant_type=password`; unknown user or wrong password answers 400 `invalid_grant`. */
  passwordGrant(firm: string, username: string, password: string): SimTokenGrant {
    const known = this.credentials.get(firm) ?? [];
    if (!known.some((c) => c.username === username && c.password === password)) {
      throw invalidGrant('bad username or password');
    }
    return this.issue(firm, username);
  }

  /** `grant_type=refresh_token`; the presented token is spent whether or not it was still good. */
  refreshGrant(firm: string, refreshToken: string): SimTokenGrant {
    const issued = this.refreshTokens.get(refreshToken);
    this.refreshTokens.delete(refreshToken);
    if (!issued || issued.firm !== firm || issued.expiresAtMs <= this.nowMs()) {
      throw invalidGrant('unknown, used or expired refresh token');
    }
    return this.issue(firm, issued.username);
  }

  /**
   * Issues a token pair for a caller the endpoint has authenticated some other way (the FHIR simulator's client
   * credentials and `private_key_jwt` grants).
   */
  issueFor(firm: string, subject: string): SimTokenGrant {
    return this.issue(firm, subject);
  }

  /** True when `accessToken` was issued for `firm` and has not expired. */
  isValid(firm: string, accessToken: string): boolean {
    const issued = this.accessTokens.get(accessToken);
    if (!issued) return false;
    if (issued.expiresAtMs <= this.nowMs()) {
      this.accessTokens.delete(accessToken);
      return false;
    }
    return issued.firm === firm;
  }

  /** Forgets every token (sim reset). */
  clear(): void {
    this.accessTokens.clear();
    this.refreshTokens.clear();
  }

  private issue(firm: string, username: string): SimTokenGrant {
    const nowMs = this.nowMs();
    this.sweepExpired(nowMs);
    const access = randomBytes(24).toString('base64url');
    const refresh = randomBytes(24).toString('base64url');
    this.accessTokens.set(access, { firm, username, expiresAtMs: nowMs + this.ttlSeconds * 1000 });
    this.refreshTokens.set(refresh, { firm, username, expiresAtMs: nowMs + REFRESH_TOKEN_TTL_MS });
    return {
      access_token: access,
      token_type: 'Bearer',
      expires_in: this.ttlSeconds,
      refresh_token: refresh,
    };
  }

  private sweepExpired(nowMs: number): void {
    for (const map of [this.accessTokens, this.refreshTokens]) {
      for (const [token, issued] of map) if (issued.expiresAtMs <= nowMs) map.delete(token);
    }
  }

  private nowMs(): number {
    return this.now().getTime();
  }
}

function invalidGrant(message: string): SimHttpError {
  return new SimHttpError(400, { error: 'invalid_grant', message });
}
