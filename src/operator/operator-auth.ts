/**
 * Operator authentication for `/status`, `/readyz` details and `/metrics` (issue 15; DESIGN.md section 2): a
 * client configured with `operator: true` presents its bearer token, or signs in once in a browser with the same
 * token and gets a session cookie (HttpOnly, SameSite=Strict; a random id whose SHA-256 the store keeps, so every
 * instance knows it, expiring after `sessionTtlMs`). A token of a client that is not an operator is refused like a
 * wrong one.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { ClientRegistry } from '../auth/client-registry.js';
import type { ClientConfig } from '../config.js';
import type { Store } from '../store/database.js';
import {
  deleteOperatorSession,
  insertOperatorSession,
  operatorSessionClient,
} from '../store/operator-session-rows.js';

export const SESSION_COOKIE = 'switchboard_operator';
const DEFAULT_SESSION_TTL_MS = 8 * 3600_000;

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
  signOut(cookie: string | undefined): Promise<string>;
}

const sha256 = (value: string) => createHash('sha256').update(value, 'utf8').digest('hex');

export function createOperatorAuth(options: {
  clients: ClientRegistry;
  /** Where sessions live: the store, so every instance behind a load balancer knows them. */
  store: () => Store | undefined;
  sessionTtlMs?: number;
  now?: () => Date;
}): OperatorAuth {
  const now = options.now ?? (() => new Date());
  const ttlMs = options.sessionTtlMs ?? DEFAULT_SESSION_TTL_MS;
  const operator = async (token: string) => {
    const client = await options.clients.authenticate(token);
    return client?.operator === true ? client : undefined;
  };
  return {
    async identify(headers) {
      const bearer = /^Bearer[ ]+(\S+)\s*$/i.exec(headers.authorization ?? '')?.[1];
      if (bearer !== undefined) {
        const client = await operator(bearer);
        return client ? { client, session: false } : undefined;
      }
      const id = cookieValue(headers.cookie, SESSION_COOKIE);
      const store = options.store();
      if (!id || id.length > 100 || !store) return undefined;
      const clientId = await operatorSessionClient(store, sha256(id), now().toISOString()).catch(
        () => undefined,
      );
      // A client removed from the configuration, or no longer an operator, loses its sessions at once.
      const client = options.clients.clients.find((c) => c.id === clientId);
      return client?.operator === true ? { client, session: true } : undefined;
    },
    async signIn(token, { secure }) {
      const client = await operator(token.trim());
      const store = options.store();
      if (!client || !store) return undefined;
      const id = randomBytes(32).toString('base64url');
      const at = now();
      await insertOperatorSession(store, {
        sessionSha256: sha256(id),
        clientId: client.id,
        expiresAt: new Date(at.getTime() + ttlMs).toISOString(),
        now: at.toISOString(),
      });
      return `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${Math.floor(ttlMs / 1000)}${
        secure ? '; Secure' : ''
      }`;
    },
    async signOut(cookie) {
      const id = cookieValue(cookie, SESSION_COOKIE);
      const store = options.store();
      if (id && store) await deleteOperatorSession(store, sha256(id));
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
