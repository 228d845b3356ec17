import { describe, expect, it } from 'vitest';
import { createClientRegistry } from '../../src/auth/client-registry.js';
import { sha256Hex, type ClientConfig } from '../../src/config.js';
import { insertAccessToken } from '../../src/store/smart-tokens.js';
import { testStoreFactories, useTestStore } from '../support/test-stores.js';

const agent: ClientConfig = {
  id: 'agent',
  tokenSha256: sha256Hex('agent-static-token'),
  scopes: ['system/*.rs'],
  tenants: ['demo'],
};
const backend: ClientConfig = { id: 'backend', scopes: ['system/*.rs'], tenants: ['demo'] };
const NOW = new Date('2026-11-24T19:00:00Z');

/** Issue 16: lookups are cheap, never stale: a revoked or expired token is refused on the very next request. */
describe.each(testStoreFactories)('client revocation ($name)', (factory) => {
  const testStore = useTestStore(factory);

  it('refuses an issued token at once once another instance deleted it, and once it expired', async () => {
    const handle = testStore();
    const elsewhere = await handle.openAnother();
    let now = NOW;
    const registry = createClientRegistry([agent, backend], { store: () => handle.store, now: () => now });
    const issue = (token: string) =>
      insertAccessToken(
        handle.store,
        {
          tokenSha256: sha256Hex(token),
          tenantId: 'demo',
          clientId: 'backend',
          scopes: ['system/Slot.rs'],
          issuedAt: NOW,
          expiresAt: new Date(NOW.getTime() + 300_000),
        },
        NOW,
      );
    await issue('issued-1');
    await issue('issued-2');
    // Asked repeatedly first, so anything that remembered answers would have them.
    for (let i = 0; i < 3; i++) expect((await registry.authenticate('issued-1'))?.id).toBe('backend');

    await elsewhere.db
      .deleteFrom('smart_access_tokens')
      .where('token_sha256', '=', sha256Hex('issued-1'))
      .execute();
    expect(await registry.authenticate('issued-1')).toBeUndefined();
    expect((await registry.authenticate('issued-2'))?.scopes).toEqual(['system/Slot.rs']);

    now = new Date(NOW.getTime() + 300_000);
    expect(await registry.authenticate('issued-2')).toBeUndefined();
  });

  it('refuses a client removed from the configuration, its static and its issued tokens alike', async () => {
    const { store } = testStore();
    await insertAccessToken(
      store,
      {
        tokenSha256: sha256Hex('issued-3'),
        tenantId: 'demo',
        clientId: 'backend',
        scopes: ['system/Slot.rs'],
        issuedAt: NOW,
        expiresAt: new Date(NOW.getTime() + 300_000),
      },
      NOW,
    );
    const before = createClientRegistry([agent, backend], { store: () => store, now: () => NOW });
    expect((await before.authenticate('agent-static-token'))?.id).toBe('agent');
    expect((await before.authenticate('issued-3'))?.id).toBe('backend');
    const after = createClientRegistry([{ ...agent, id: 'other', tokenSha256: sha256Hex('x') }], {
      store: () => store,
      now: () => NOW,
    });
    expect(await after.authenticate('agent-static-token')).toBeUndefined();
    expect(await after.authenticate('issued-3')).toBeUndefined();
  });
});
