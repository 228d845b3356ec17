/**
 * Operator authentication for `/status`, `/readyz` details and `/metrics` (issue 15; DESIGN.md section 2): a
 * client configured with `operator: true` presents its bearer token, or signs in once in a browser with the same
 * token and gets a session cookie (HttpOnly, SameSite=Strict; a random id kept in this process, expiring after
 * `sessionTtlMs`). A token of a client that is not an operator is refused like a wrong one.
 */
import { randomBytes } from 'node:crypto';
import type { ClientRegistry } from '../auth/client-registry.js';
import type { ClientConfig } from '../config.js';

export const SESSION_COOKIE = 'switchboard_operator';
const DEFAULT_SESSION_TTL_MS = 8 * 3600_000;
/** Sessions kept at most; the oldest go first (a flood of sign-ins cannot grow memory without bound). */
const MAX_SESSIONS = 1_000;

export interface OperatorIdentity {
  client: ClientConfig;
  /** Signed in by cookie (not by bearer token). */
  session: boolean;
}

export interface OperatorAuth {
  /** The operator making a request, from its `Authorization` or `Cookie` header; undefined when there is none. */
  identify(headers: { authorization?: string; cookie?: string }): Promise<OperatorIdentity | undefined>;
  /** Starts a session for `token` when it is an operator's: the `Set-Cookie` value; undefined otherwise. */
  signIn(token: string, options: { secure: boolean }): Promise<string | undefined>;
  /** Ends the session of `cookie` (if any): the `Set-Cookie` value that clears it. */
  signOut(cookie: string | undefined): string;
}

export function createOperatorAuth(options: {
  clients: ClientRegistry;
  sessionTtlMs?: number;
  now?: () => number;
}): OperatorAuth {
  const now = options.now ?? Date.now;
  const ttlMs = options.sessionTtlMs ?? DEFAULT_SESSION_TTL_MS;
  const sessions = new Map<string, { client: ClientConfig; expiresAt: number }>();
  const operator = async (token: string) => {
    const client = await options.clients.authenticate(token);
    return client?.operator === true ? client : undefined;
  };
  const sessionOf = (cookie: string | undefined) => {
    const id = cookieValue(cookie, SESSION_COOKIE);
    const session = id === undefined ? undefined : sessions.get(id);
    if (!session || id === undefined) return undefined;
    if (session.expiresAt <= now()) {
      sessions.delete(id);
      return undefined;
    }
    return { id, session };
  };
  return {
    async identify(headers) {
      const bearer = /^Bearer[ ]+(\S+)\s*$/i.exec(headers.authorization ?? '')?.[1];
      if (bearer !== undefined) {
        const client = await operator(bearer);
        return client ? { client, session: false } : undefined;
      }
      const found = sessionOf(headers.cookie);
      return found ? { client: found.session.client, session: true } : undefined;
    },
    async signIn(token, { secure }) {
      const client = await operator(token.trim());
      if (!client) return undefined;
      const id = randomBytes(32).toString('base64url');
      for (const [key, s] of sessions) if (s.expiresAt <= now()) sessions.delete(key);
      while (sessions.size >= MAX_SESSIONS) sessions.delete(sessions.keys().next().value as string);
      sessions.set(id, { client, expiresAt: now() + ttlMs });
      return `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${Math.floor(ttlMs / 1000)}${
        secure ? '; Secure' : ''
      }`;
    },
    signOut(cookie) {
      const found = sessionOf(cookie);
      if (found) sessions.delete(found.id);
      return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`;
    },
  };
}

/** The value of cookie `name` in a `Cookie` header. */
function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Whether the operator may see `tenantId`. */
export const operatorSees = (client: ClientConfig, tenantId: string): boolean =>
  client.tenants.includes('*') || client.tenants.includes(tenantId);
