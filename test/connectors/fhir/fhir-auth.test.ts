/**
 * The FHIR connector's auth modes against the FHIR simulator's token endpoint (issue 12 item 1): client
 * credentials with the secret in the Basic header or the form, and SMART Backend Services `private_key_jwt` with
 * RS384 and ES384 keys read from a file (PKCS#8 PEM or JWK).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, exportPKCS8, generateKeyPair } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { UpstreamError } from '../../../src/connectors/upstream-error.js';
import { TINY_CLIENT, TINY_FIRM, startFhirSimHarness, type FhirSimHarness } from './fhir-sim-harness.js';

const dir = mkdtempSync(join(tmpdir(), 'fhir-auth-'));
let h: FhirSimHarness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const keys: Record<'RS384' | 'ES384', { pem: string; jwkFile: string; publicJwk: object }> = {} as never;
beforeAll(async () => {
  for (const alg of ['RS384', 'ES384'] as const) {
    const pair = await generateKeyPair(alg, { extractable: true });
    const pem = join(dir, `${alg}.pem`);
    writeFileSync(pem, await exportPKCS8(pair.privateKey));
    const jwkFile = join(dir, `${alg}.jwk.json`);
    writeFileSync(jwkFile, JSON.stringify(await exportJWK(pair.privateKey)));
    keys[alg] = { pem, jwkFile, publicJwk: { ...(await exportJWK(pair.publicKey)), alg } };
  }
});

describe('FHIR connector auth modes', () => {
  for (const method of ['client_secret_basic', 'client_secret_post'] as const) {
    it(`gets a token with ${method}`, async () => {
      h = await startFhirSimHarness();
      const tokenUrl = h.sim.tokenUrl(TINY_FIRM);
      const connector = h.connector({
        auth: { method, tokenUrl, clientId: TINY_CLIENT.clientId, clientSecret: TINY_CLIENT.secret ?? '' },
      });
      const data = await connector.referenceData();
      expect(data.practitioners).toHaveLength(2);
      const refused = h.connector({
        auth: { method, tokenUrl, clientId: TINY_CLIENT.clientId, clientSecret: 'wrong' },
      });
      const failure = await refused.referenceData().catch((e: unknown) => e);
      expect((failure as UpstreamError).kind).toBe('unauthorized');
    });
  }

  for (const alg of ['RS384', 'ES384'] as const) {
    it(`gets a token with private_key_jwt signed ${alg}, key from a PEM or a JWK file`, async () => {
      h = await startFhirSimHarness({ clients: [{ clientId: 'backend', jwks: [keys[alg].publicJwk] }] });
      const tokenUrl = h.sim.tokenUrl(TINY_FIRM);
      for (const privateKeyFile of [keys[alg].pem, keys[alg].jwkFile]) {
        const connector = h.connector({
          auth: { method: 'private_key_jwt', tokenUrl, clientId: 'backend', privateKeyFile, algorithm: alg },
        });
        await expect(connector.referenceData()).resolves.toMatchObject({ locations: [{}, {}] });
      }
      // Another client id is not vouched for by this key.
      const stranger = h.connector({
        auth: {
          method: 'private_key_jwt',
          tokenUrl,
          clientId: 'stranger',
          privateKeyFile: keys[alg].pem,
          algorithm: alg,
        },
      });
      expect(((await stranger.referenceData().catch((e: unknown) => e)) as UpstreamError).kind).toBe(
        'unauthorized',
      );
    });
  }
});
