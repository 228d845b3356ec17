import { describe, expect, it } from 'vitest';
import { clientMayUseTenant, createClientRegistry } from '../../src/auth/client-registry.js';
import { ConfigError, parseConfig, sha256Hex, type ClientConfig } from '../../src/config.js';

const client = (id: string, token: string, tenants: string[] = ['demo']): ClientConfig => ({
  id,
  tokenSha256: sha256Hex(token),
  scopes: ['system/*.rs'],
  tenants,
});

describe('client registry', () => {
  const agent = client('agent', 'agent-token-1');
  const dashboard = client('dashboard', 'dashboard-token-2', ['*']);
  const registry = createClientRegistry([agent, dashboard]);

  it('finds the client whose token hash matches the presented token', async () => {
    expect(await registry.authenticate('agent-token-1')).toBe(agent);
    expect(await registry.authenticate('dashboard-token-2')).toBe(dashboard);
  });

  it('finds no client for an unknown, empty, near-miss or oversized token', async () => {
    expect(await registry.authenticate('agent-token-2')).toBeUndefined();
    expect(await registry.authenticate('agent-token-1 ')).toBeUndefined();
    expect(await registry.authenticate('')).toBeUndefined();
    expect(await registry.authenticate(agent.tokenSha256 as string)).toBeUndefined();
    expect(await registry.authenticate('x'.repeat(100_000))).toBeUndefined();
  });

  it('accepts the clients parseConfig produces from inline tokens', async () => {
    const config = parseConfig({
      tenants: [
        {
          id: 'demo',
          connector: {
            kind: 'sim',
            baseUrl: 'http://127.0.0.1:4010',
            firm: 'f',
            username: 'u',
            password: 'p',
          },
        },
      ],
      clients: [{ id: 'c1', token: 'secret-token-c1', scopes: ['system/*.rs'], tenants: ['demo'] }],
    });
    expect((await createClientRegistry(config.clients).authenticate('secret-token-c1'))?.id).toBe('c1');
  });

  it('refuses two clients sharing one token, so every client has its own identity', () => {
    expect(() => createClientRegistry([agent, { ...agent, id: 'copy' }])).toThrow(ConfigError);
  });

  it('refuses a malformed token hash', () => {
    expect(() => createClientRegistry([{ ...agent, tokenSha256: 'abc' }])).toThrow(ConfigError);
  });

  it('binds clients to their listed tenants, or to every tenant with *', () => {
    expect(clientMayUseTenant(agent, 'demo')).toBe(true);
    expect(clientMayUseTenant(agent, 'other')).toBe(false);
    expect(clientMayUseTenant(dashboard, 'demo')).toBe(true);
    expect(clientMayUseTenant(dashboard, 'other')).toBe(true);
  });
});
