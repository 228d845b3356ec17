/**
 * The `clients` block of the configuration file: who may call the facade, with which token or JWKS, scopes and
 * tenants. Part of src/config.ts, kept apart for size.
 */
import { z } from 'zod';
import { configId } from './config-basics.js';

/** Exactly one way of giving a secret: inline (development only), an environment variable's name, or a file path. */
export const oneSecret = (name: string) => (o: Record<string, unknown>) =>
  [o[name], o[`${name}Env`], o[`${name}File`], o[`${name}Sha256`]].filter((v) => v !== undefined).length ===
  1;

const noSecret = (o: Record<string, unknown>) =>
  [o.token, o.tokenEnv, o.tokenFile, o.tokenSha256].every((v) => v === undefined);

/** One public key of a client's JWKS (RFC 7517): what SMART Backend Services clients sign assertions with. */
const jwkSchema = z.looseObject({
  kty: z.enum(['RSA', 'EC']),
  kid: z.string().min(1),
  alg: z.enum(['RS384', 'ES384']).optional(),
});

export const clientSchema = z
  .strictObject({
    id: configId,
    /** SHA-256 (hex) of the bearer token, so the configuration file holds no usable secret. */
    tokenSha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .optional(),
    token: z.string().min(8).optional(),
    tokenEnv: z.string().min(1).optional(),
    tokenFile: z.string().min(1).optional(),
    /**
     * SMART Backend Services (standards.md 7.2): the client's public keys as an inline JWKS. A client with `jwks`
     * has no static token: it gets short-lived access tokens from `{FHIR base}/auth/token` with a signed JWT.
     */
    jwks: z.strictObject({ keys: z.array(jwkSchema).min(1) }).optional(),
    /** SMART v2 system scopes (`system/Appointment.cruds`, `system/*.rs`); v1 `.read`/`.write` accepted. */
    scopes: z
      .array(
        z
          .string()
          .regex(/^(system|user|patient)\/(\*|[A-Z][A-Za-z]+)\.(\*|read|write|[cruds]+)$/)
          .refine(
            (scope) => scope.startsWith('system/'),
            'patient/ and user/ scopes are refused until Switchboard enforces the patient compartment (they would grant the whole tenant): use system/ scopes',
          ),
      )
      .min(1),
    /** Tenant ids this client may use; `*` for all. */
    tenants: z.array(z.union([configId, z.literal('*')])).min(1),
    /** Sees and manages every client's Subscriptions of its tenants (others see only their own). */
    operator: z.boolean().default(false),
  })
  .refine((o) => (o.jwks === undefined ? oneSecret('token')(o) : !oneSecret('token')(o) && noSecret(o)), {
    message:
      'give exactly one of tokenSha256, token, tokenEnv, tokenFile — or jwks alone (a SMART backend client has no static token)',
    path: ['token'],
  });
