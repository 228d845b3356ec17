/**
 * Secrets at rest (DESIGN.md section 7, issue 15 item 5): values the store must keep but nobody reading the
 * database file or its rows may use — webhook signing secrets and Subscription `channel.header` lines — are sealed
 * with AES-256-GCM (node:crypto) under the operator's key.
 *
 * A sealed value is text: `sb1.<key id>.<base64url(iv ‖ ciphertext ‖ tag)>`. The key id (the first 8 bytes of
 * the key's SHA-256, hex) says which key sealed it, so a keyring of the current key and previous ones opens
 * values sealed before a rotation, and the start-up pass (`secrets-at-rest.ts`) finds what still needs resealing.
 * The associated data binds a value to where it belongs (tenant, subscription, field), so a sealed value copied
 * into another row does not open there.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const PREFIX = 'sb1.';
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** The length of a key: AES-256. */
export const SECRET_KEY_BYTES = 32;

/** A value could not be sealed or opened: no key, a key not in the ring, or a value that was tampered with. */
export class SecretKeyError extends Error {
  override readonly name = 'SecretKeyError';
}

/** Seals and opens secrets kept in the store. */
export interface SecretBox {
  /** True when a current key is configured (otherwise {@link seal} throws). */
  readonly canSeal: boolean;
  /** Id of the key that seals, or undefined without one. */
  readonly currentKeyId: string | undefined;
  /** Every key id this box can open. */
  readonly keyIds: readonly string[];
  /** `plaintext` sealed with the current key, bound to `context`. @throws SecretKeyError without a key */
  seal(plaintext: string, context: string): string;
  /** The plaintext of a sealed value. @throws SecretKeyError when no key of the ring opens it */
  open(sealed: string, context: string): string;
}

/** True when `value` is a sealed value (as opposed to a plaintext one from before encryption at rest). */
export function isSealed(value: string): boolean {
  return value.startsWith(PREFIX);
}

/** The id of the key that sealed `value`; undefined for a plaintext value. */
export function sealedKeyId(value: string): string | undefined {
  if (!isSealed(value)) return undefined;
  return value.slice(PREFIX.length).split('.')[0];
}

/** The id of `key`: not secret (a hash prefix), shown in errors so an operator can tell keys apart. */
export function secretKeyId(key: Uint8Array): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

/**
 * A box over `keys`: the first seals, every one opens. No keys: a box that opens and seals nothing (a store that
 * holds no secrets yet, or tests of the start-up errors).
 */
export function createSecretBox(keys: readonly Uint8Array[]): SecretBox {
  for (const key of keys) {
    if (key.length !== SECRET_KEY_BYTES) throw new RangeError(`a secret key is ${SECRET_KEY_BYTES} bytes`);
  }
  const ring = new Map(keys.map((key) => [secretKeyId(key), Buffer.from(key)] as const));
  const current = keys[0] === undefined ? undefined : secretKeyId(keys[0]);
  return {
    canSeal: current !== undefined,
    currentKeyId: current,
    keyIds: [...ring.keys()],
    seal(plaintext, context) {
      const key = current === undefined ? undefined : ring.get(current);
      if (current === undefined || key === undefined) {
        throw new SecretKeyError(
          'no secret key is configured: set SWITCHBOARD_SECRET_KEY or SWITCHBOARD_SECRET_KEY_FILE',
        );
      }
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      const sealed = Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
      return `${PREFIX}${current}.${sealed}`;
    },
    open(sealed, context) {
      const [keyId, payload] = sealed.slice(PREFIX.length).split('.');
      if (!isSealed(sealed) || keyId === undefined || payload === undefined) {
        throw new SecretKeyError('not a sealed secret');
      }
      const key = ring.get(keyId);
      if (!key) {
        throw new SecretKeyError(
          `a secret in the store was encrypted with key ${keyId}, which is not configured ` +
            `(configured: ${[...ring.keys()].join(', ') || 'none'})`,
        );
      }
      const bytes = Buffer.from(payload, 'base64url');
      if (bytes.length < IV_BYTES + TAG_BYTES) throw new SecretKeyError('a sealed secret is truncated');
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES));
        decipher.setAAD(Buffer.from(context, 'utf8'));
        decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
        const body = bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES);
        return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
      } catch {
        throw new SecretKeyError(`a sealed secret does not open with key ${keyId} (altered, or moved)`);
      }
    },
  };
}

/**
 * Parses a key as configured: 32 bytes written as 64 hex digits or as base64 (`openssl rand -base64 32`).
 * @throws RangeError naming the accepted forms
 */
export function parseSecretKey(text: string): Buffer {
  const trimmed = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(trimmed)) {
    const bytes = Buffer.from(
      trimmed,
      trimmed.includes('-') || trimmed.includes('_') ? 'base64url' : 'base64',
    );
    if (bytes.length === SECRET_KEY_BYTES) return bytes;
  }
  throw new RangeError(
    'a secret key is 32 random bytes written as 64 hex digits or base64 (make one with: openssl rand -base64 32)',
  );
}

/** A new random key, base64: what the demo writes into its data folder. */
export function generateSecretKeyText(): string {
  return randomBytes(SECRET_KEY_BYTES).toString('base64');
}
