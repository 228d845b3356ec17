/**
 * The FHIR facade's clients (DESIGN.md section 7): each one a bearer token, bound to tenants and SMART scopes.
 * The configuration holds only the SHA-256 of each token, so a leaked configuration file grants nothing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { ConfigError, type ClientConfig } from '../config.js';

/** Tokens longer than this are refused without hashing; configured tokens are far shorter. */
const MAX_TOKEN_LENGTH = 4096;
const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Looks up the client a bearer token belongs to. */
export interface ClientRegistry {
  /**
   * The client whose token is `bearer`, or undefined. Compares the token's SHA-256 with every client's in
   * constant time and without stopping at a match, so timing reveals neither a partial match nor which client.
   */
  authenticate(bearer: string): ClientConfig | undefined;
  readonly clients: readonly ClientConfig[];
}

/**
 * Builds the registry. @throws ConfigError when a token hash is malformed or two clients share a token: each
 * client needs its own identity for the audit trail (HIPAA §164.312(a)(2)(i), reliability.md section 4).
 *
 * @see https://www.rfc-editor.org/rfc/rfc6750
 */
export function createClientRegistry(clients: readonly ClientConfig[]): ClientRegistry {
  const entries = clients.map((client) => {
    const hex = client.tokenSha256.toLowerCase();
    if (!SHA256_HEX.test(hex)) {
      throw new ConfigError(`client ${client.id}: tokenSha256 is not a hex SHA-256`);
    }
    return { client, digest: Buffer.from(hex, 'hex') };
  });
  const seen = new Map<string, string>();
  for (const { client, digest } of entries) {
    const other = seen.get(digest.toString('hex'));
    if (other !== undefined) throw new ConfigError(`clients ${other} and ${client.id} share a token`);
    seen.set(digest.toString('hex'), client.id);
  }
  return {
    clients: Object.freeze(clients.slice()),
    authenticate(bearer: string): ClientConfig | undefined {
      if (bearer.length === 0 || bearer.length > MAX_TOKEN_LENGTH) return undefined;
      const presented = createHash('sha256').update(bearer, 'utf8').digest();
      let found: ClientConfig | undefined;
      for (const { client, digest } of entries) {
        // No early exit: every client is compared on every call.
        if (timingSafeEqual(presented, digest)) found = client;
      }
      return found;
    },
  };
}

/** Whether `client` may use tenant `tenantId` (listed, or bound to `*`). */
export function clientMayUseTenant(client: ClientConfig, tenantId: string): boolean {
  return client.tenants.includes('*') || client.tenants.includes(tenantId);
}
