/**
 * The FHIR facade's clients (DESIGN.md section 7) and the one place a bearer token becomes a client, for every
 * facade (FHIR, MCP). Two kinds of token:
 * - static tokens of the configuration (demo, simple set-ups): the configuration holds only the SHA-256 of each,
 *   so a leaked configuration file grants nothing;
 * - short-lived access tokens the SMART Backend Services token endpoint issued (smart-token-issuer.ts): opaque,
 *   stored as SHA-256 in the store so every instance on one database accepts them; such a token is bound to the
 *   one tenant it was issued for and carries the scopes granted then.
 */
import { createHash } from 'node:crypto';
import { ConfigError, type ClientConfig } from '../config.js';
import type { Store } from '../store/database.js';
import { readAccessToken } from '../store/smart-tokens.js';

/** Tokens longer than this are refused without hashing; configured and issued tokens are far shorter. */
const MAX_TOKEN_LENGTH = 4096;
const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Looks up the client a bearer token belongs to. */
export interface ClientRegistry {
  /**
   * The client whose token is `bearer`, or undefined. A static token is looked up by its SHA-256 among the
   * configured clients' digests (so timing reveals nothing about the token itself); an issued token is looked up by
   * its SHA-256 in the store, on every call (a token deleted there is refused at once, on every instance), and
   * answers its client with the granted scopes and its one tenant.
   */
  authenticate(bearer: string): Promise<ClientConfig | undefined>;
  readonly clients: readonly ClientConfig[];
}

export interface ClientRegistryOptions {
  /** Where issued access tokens are kept; without it only static tokens authenticate. */
  store?: () => Store;
  now?: () => Date;
}

/**
 * Builds the registry. @throws ConfigError when a token hash is malformed or two clients share a token: each
 * client needs its own identity for the audit trail (HIPAA §164.312(a)(2)(i), reliability.md section 4).
 *
 * @see https://www.rfc-editor.org/rfc/rfc6750
 */
export function createClientRegistry(
  clients: readonly ClientConfig[],
  options: ClientRegistryOptions = {},
): ClientRegistry {
  const entries = clients.flatMap((client) => {
    if (client.tokenSha256 === undefined) return [];
    const hex = client.tokenSha256.toLowerCase();
    if (!SHA256_HEX.test(hex)) {
      throw new ConfigError(`client ${client.id}: tokenSha256 is not a hex SHA-256`);
    }
    return [{ client, digest: Buffer.from(hex, 'hex') }];
  });
  const seen = new Map<string, string>();
  for (const { client, digest } of entries) {
    const other = seen.get(digest.toString('hex'));
    if (other !== undefined) throw new ConfigError(`clients ${other} and ${client.id} share a token`);
    seen.set(digest.toString('hex'), client.id);
  }
  const byId = new Map(clients.map((c) => [c.id, c]));
  // Built once per configuration (a new configuration builds a new registry): one hash lookup per request instead
  // of a comparison with every client's digest. The key is the SHA-256 of the presented token, so how long the
  // lookup takes can tell an attacker nothing about a token they do not already have.
  const byDigest = new Map(seen);
  const now = options.now ?? (() => new Date());
  return {
    clients: Object.freeze(clients.slice()),
    async authenticate(bearer: string): Promise<ClientConfig | undefined> {
      if (bearer.length === 0 || bearer.length > MAX_TOKEN_LENGTH) return undefined;
      const presented = createHash('sha256').update(bearer, 'utf8').digest();
      const presentedHex = presented.toString('hex');
      const id = byDigest.get(presentedHex);
      const found = id === undefined ? undefined : byId.get(id);
      if (found || !options.store) return found;
      const issued = await readAccessToken(options.store(), presentedHex, now());
      const client = issued ? byId.get(issued.clientId) : undefined;
      // A client removed from the configuration (or no longer allowed the tenant) loses its tokens at once.
      if (!issued || !client || !clientMayUseTenant(client, issued.tenantId)) return undefined;
      return { ...client, scopes: issued.scopes, tenants: [issued.tenantId] };
    },
  };
}

/** Whether `client` may use tenant `tenantId` (listed, or bound to `*`). */
export function clientMayUseTenant(client: ClientConfig, tenantId: string): boolean {
  return client.tenants.includes('*') || client.tenants.includes(tenantId);
}
