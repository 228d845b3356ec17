import { describe, expect, it } from 'vitest';
import {
  checkEndpoint,
  createEndpointPolicy,
  EndpointRefusedError,
  parseAllowlistEntry,
  type HostLookup,
} from '../../../src/webhooks/delivery/endpoint-guard.js';
import { postWebhook } from '../../../src/webhooks/delivery/webhook-http.js';
import { startWebhookReceiver } from '../../support/webhook-receiver.js';

/** A fake DNS: names → addresses; unknown names do not resolve. Counts lookups. */
function fakeDns(table: Record<string, string[]>): HostLookup & { calls: string[] } {
  const calls: string[] = [];
  const lookup = async (hostname: string) => {
    calls.push(hostname);
    const addresses = table[hostname];
    if (!addresses) throw Object.assign(new Error(`ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return Object.assign(lookup, { calls });
}

const dns = fakeDns({
  'hooks.example.com': ['93.184.216.34'],
  'internal.example.com': ['127.0.0.1'],
  'mixed.example.com': ['93.184.216.34', '10.0.0.5'],
  'metadata.example.com': ['169.254.169.254'],
  'v6.example.com': ['2606:2800:220:1:248:1893:25c8:1946'],
  'mapped.example.com': ['::ffff:192.168.1.1'],
});
const strict = createEndpointPolicy({ allowlist: [] }, { lookup: dns });

async function refusal(url: string, policy = strict): Promise<string> {
  try {
    await checkEndpoint(url, policy);
  } catch (error) {
    expect(error).toBeInstanceOf(EndpointRefusedError);
    return (error as EndpointRefusedError).reason;
  }
  throw new Error(`${url} was accepted`);
}

describe('webhook endpoint guard (SSRF)', () => {
  it.each([
    ['https://127.0.0.1/hook', 'address'],
    ['https://10.0.0.1/hook', 'address'],
    ['https://172.16.5.4/hook', 'address'],
    ['https://192.168.1.1/hook', 'address'],
    ['https://169.254.169.254/latest/meta-data/', 'address'],
    ['https://100.64.0.1/hook', 'address'],
    ['https://0.0.0.0/hook', 'address'],
    ['https://[::1]/hook', 'address'],
    ['https://[::ffff:127.0.0.1]/hook', 'address'],
    ['https://[::ffff:7f00:1]/hook', 'address'],
    ['https://[fc00::1]/hook', 'address'],
    ['https://[fe80::1]/hook', 'address'],
    ['https://2130706433/hook', 'address'],
    ['https://0x7f.1/hook', 'address'],
    ['https://017700000001/hook', 'address'],
    ['https://127.1/hook', 'address'],
    ['https://internal.example.com/hook', 'address'],
    ['https://mixed.example.com/hook', 'address'],
    ['https://metadata.example.com/hook', 'address'],
    ['https://mapped.example.com/hook', 'address'],
    ['http://hooks.example.com/hook', 'insecure-http'],
    ['https://user:pass@hooks.example.com/hook', 'userinfo'],
    ['https://token@hooks.example.com/hook', 'userinfo'],
    ['https://hooks.example.com:22/hook', 'port'],
    ['ftp://hooks.example.com/hook', 'scheme'],
    ['file:///etc/passwd', 'scheme'],
    ['https://nowhere.example.com/hook', 'dns'],
    ['not a url', 'invalid-url'],
  ])('refuses %s without an allowlist (%s)', async (url, reason) => {
    expect(await refusal(url)).toBe(reason);
  });

  it('accepts a public https host and returns the checked address to pin', async () => {
    const checked = await checkEndpoint('https://hooks.example.com/hook?x=1', strict);
    expect(checked).toMatchObject({
      hostname: 'hooks.example.com',
      address: '93.184.216.34',
      family: 4,
      port: 443,
      allowlisted: false,
    });
    const v6 = await checkEndpoint('https://v6.example.com/hook', strict);
    expect(v6).toMatchObject({ family: 6, address: '2606:2800:220:1:248:1893:25c8:1946' });
  });

  it('lets allowlisted loopback through, over http and on any port, by CIDR or by name', async () => {
    const lookup = fakeDns({ localhost: ['127.0.0.1'], 'receiver.test': ['127.0.0.1'] });
    const demo = createEndpointPolicy({ allowlist: ['127.0.0.0/8', '::1/128', 'localhost'] }, { lookup });
    expect(await checkEndpoint('http://127.0.0.1:4321/hook', demo)).toMatchObject({
      allowlisted: true,
      port: 4321,
    });
    expect(await checkEndpoint('http://[::1]:4321/hook', demo)).toMatchObject({ address: '::1', family: 6 });
    expect(await checkEndpoint('http://2130706433:4321/hook', demo)).toMatchObject({ address: '127.0.0.1' });
    expect(await checkEndpoint('http://localhost:4321/hook', demo)).toMatchObject({ address: '127.0.0.1' });
    // Allowlisting loopback does not open the private ranges.
    expect(await refusal('http://10.0.0.1:4321/hook', demo)).toBe('address');
  });

  it('allowlists a host name only for that name (and *.suffix entries for subdomains)', async () => {
    const lookup = fakeDns({
      'hooks.corp': ['10.1.2.3'],
      'a.partner.test': ['10.9.9.9'],
      'other.corp': ['10.1.2.4'],
    });
    const policy = createEndpointPolicy({ allowlist: ['hooks.corp', '*.partner.test'] }, { lookup });
    await expect(checkEndpoint('http://hooks.corp:8080/h', policy)).resolves.toMatchObject({
      allowlisted: true,
    });
    await expect(checkEndpoint('https://a.partner.test/h', policy)).resolves.toMatchObject({
      allowlisted: true,
    });
    expect(await refusal('https://other.corp/h', policy)).toBe('address');
  });

  it('classifies allowlist entries and rejects nonsense', () => {
    expect(parseAllowlistEntry('127.0.0.0/8').kind).toBe('cidr');
    expect(parseAllowlistEntry('::1').kind).toBe('cidr');
    expect(parseAllowlistEntry('Hooks.Example.org').kind).toBe('hostname');
    expect(parseAllowlistEntry('*.example.org').kind).toBe('suffix');
    expect(() => parseAllowlistEntry('10.0.0.0/99')).toThrow(RangeError);
    expect(() => parseAllowlistEntry('http://x')).toThrow(RangeError);
  });

  it('connects to the pinned address without a second lookup, keeping the host name in Host', async () => {
    const receiver = await startWebhookReceiver();
    try {
      // `receiver.test` does not exist in real DNS: reaching the receiver proves the pinned address was used.
      const lookup = fakeDns({ 'receiver.test': ['127.0.0.1'] });
      const policy = createEndpointPolicy({ allowlist: ['127.0.0.0/8'] }, { lookup });
      const checked = await checkEndpoint(`http://receiver.test:${receiver.port}/hook?a=b`, policy);
      const outcome = await postWebhook(checked, { headers: {}, body: '{}', timeoutMs: 2_000 });
      expect(outcome).toMatchObject({ kind: 'response', status: 204 });
      expect(lookup.calls).toEqual(['receiver.test']);
      expect(receiver.received[0]).toMatchObject({
        path: '/hook?a=b',
        headers: { host: `receiver.test:${receiver.port}` },
      });
    } finally {
      await receiver.close();
    }
  });

  it('reports a redirect as its status without following it', async () => {
    const canary = await startWebhookReceiver();
    const receiver = await startWebhookReceiver(() => ({ status: 302, headers: { location: canary.url } }));
    try {
      const policy = createEndpointPolicy({ allowlist: ['127.0.0.0/8'] });
      const outcome = await postWebhook(await checkEndpoint(receiver.url, policy), {
        headers: {},
        body: '{}',
        timeoutMs: 2_000,
      });
      expect(outcome).toMatchObject({ kind: 'response', status: 302 });
      expect(canary.received).toHaveLength(0);
    } finally {
      await receiver.close();
      await canary.close();
    }
  });

  it('gives up on a receiver that never answers, and stops reading an oversized answer', async () => {
    const silent = await startWebhookReceiver(() => 'hang');
    const chatty = await startWebhookReceiver(() => ({ status: 200, body: 'x'.repeat(1_000_000) }));
    try {
      const policy = createEndpointPolicy({ allowlist: ['127.0.0.0/8'] });
      const timedOut = await postWebhook(await checkEndpoint(silent.url, policy), {
        headers: {},
        body: '{}',
        timeoutMs: 200,
      });
      expect(timedOut).toMatchObject({ kind: 'error', error: 'timeout' });
      const capped = await postWebhook(await checkEndpoint(chatty.url, policy), {
        headers: {},
        body: '{}',
        timeoutMs: 2_000,
        bodyLimitBytes: 1_024,
      });
      expect(capped).toMatchObject({ kind: 'response', status: 200 });
    } finally {
      await silent.close();
      await chatty.close();
    }
  });
});
