import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  envOverrides,
  loadConfigFile,
  parseConfig,
  sha256Hex,
  simSettingsOf,
  webhookSecretsFromEnvironment,
} from '../src/config.js';
import { demoConfig, demoSettings } from '../src/demo-config.js';

const tenant = {
  id: 'riverside',
  connector: {
    kind: 'sim',
    baseUrl: 'http://127.0.0.1:4010',
    firm: 'riverside',
    username: 'switchboard',
    passwordEnv: 'RIVERSIDE_PASSWORD',
  },
};
const client = {
  id: 'agent',
  tokenEnv: 'AGENT_TOKEN',
  scopes: ['system/Appointment.cruds'],
  tenants: ['riverside'],
};
const env = { RIVERSIDE_PASSWORD: 's3cret', AGENT_TOKEN: 'a-long-enough-agent-token' };

function errorOf(input: unknown, e: Record<string, string> = env): string {
  try {
    parseConfig(input, e);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('applies defaults and resolves secrets from the environment', () => {
    const config = parseConfig({ tenants: [tenant], clients: [client] }, env);
    expect(config.port).toBe(8080);
    expect(config.databaseUrl).toBe('./data/switchboard.sqlite');
    expect((config.tenants[0] && simSettingsOf(config.tenants[0]))?.password).toBe('s3cret');
    expect(config.tenants[0]?.sync.hotIntervalSeconds).toBe(5);
    expect(config.clients[0]?.tokenSha256).toBe(sha256Hex('a-long-enough-agent-token'));
  });

  it('reads a secret from a file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-config-'));
    writeFileSync(join(dir, 'pw'), 'from-file\n');
    const { passwordEnv: _unused, ...connector } = tenant.connector;
    const config = parseConfig({
      tenants: [{ ...tenant, connector: { ...connector, passwordFile: join(dir, 'pw') } }],
    });
    expect((config.tenants[0] && simSettingsOf(config.tenants[0]))?.password).toBe('from-file');
  });

  it.each([
    [
      'a malformed base URL',
      { ...tenant, connector: { ...tenant.connector, baseUrl: 'not a url' } },
      'tenants[0].connector.baseUrl',
    ],
    ['an upper-case tenant id', { ...tenant, id: 'River Side' }, 'tenants[0].id'],
    ['an unknown time zone', { ...tenant, timezone: 'Mars/Olympus' }, 'tenants[0].timezone'],
    [
      'a negative poll interval',
      { ...tenant, sync: { hotIntervalSeconds: -1 } },
      'tenants[0].sync.hotIntervalSeconds',
    ],
    ['an unknown field', { ...tenant, colour: 'blue' }, 'tenants[0]'],
  ])('names the field when a tenant has %s', (_what, badTenant, field) => {
    expect(errorOf({ tenants: [badTenant] })).toContain(field);
  });

  it('names the field when a secret is given twice', () => {
    const message = errorOf({ tenants: [{ ...tenant, connector: { ...tenant.connector, password: 'x' } }] });
    expect(message).toContain('tenants[0].connector.password');
  });

  it('names the environment variable a secret should come from when it is missing', () => {
    expect(errorOf({ tenants: [tenant] }, {})).toContain('RIVERSIDE_PASSWORD');
  });

  it('rejects a client bound to an unknown tenant or with a malformed scope', () => {
    expect(errorOf({ tenants: [tenant], clients: [{ ...client, tenants: ['elsewhere'] }] })).toContain(
      'clients[0].tenants',
    );
    expect(
      errorOf({ tenants: [tenant], clients: [{ ...client, scopes: ['Appointment.everything'] }] }),
    ).toContain('clients[0].scopes[0]');
  });

  it('rejects duplicate tenant ids and a configuration without tenants', () => {
    expect(errorOf({ tenants: [tenant, tenant] })).toContain('tenants[1].id');
    expect(errorOf({ tenants: [] })).toContain('tenants');
  });

  it('lets PORT and DATABASE_URL from the environment override the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-config-'));
    const file = join(dir, 'switchboard.json');
    writeFileSync(file, JSON.stringify({ port: 9000, tenants: [tenant] }));
    const config = loadConfigFile(file, { ...env, PORT: '9100', DATABASE_URL: 'postgres://db/sb' });
    expect(config.port).toBe(9100);
    expect(config.databaseUrl).toBe('postgres://db/sb');
  });

  it('validates the console settings: webhooks.attentionAfterSeconds, upstreamRateLimitPerMinute, metrics.open', () => {
    const config = parseConfig({ tenants: [tenant] }, env);
    expect(config.webhooks.attentionAfterSeconds).toBe(3600);
    expect(config.tenants[0]?.upstreamRateLimitPerMinute).toBe(1250);
    expect(config.metrics).toEqual({ open: false });
    expect(() => parseConfig({ tenants: [{ ...tenant, upstreamRateLimitPerMinute: 0 }] }, env)).toThrow(
      /tenants\[0\]\.upstreamRateLimitPerMinute/,
    );
    expect(() => parseConfig({ tenants: [tenant], metrics: { open: 'yes' } }, env)).toThrow(/metrics\.open/);
    expect(envOverrides({ SWITCHBOARD_METRICS_OPEN: 'true' }).metrics).toEqual({ open: true });
    expect(webhookSecretsFromEnvironment({ SWITCHBOARD_WEBHOOK_SECRETS: ' whsec_a, whsec_b ,' })).toEqual([
      'whsec_a',
      'whsec_b',
    ]);
  });

  it('says which file could not be read', () => {
    expect(() => loadConfigFile('/nonexistent/switchboard.json', {})).toThrow(
      /\/nonexistent\/switchboard.json/,
    );
  });

  it('reads the key of secrets at rest from the environment or a file, previous keys after the current one', () => {
    const hex = 'ab'.repeat(32);
    const b64 = Buffer.alloc(32, 3).toString('base64');
    const input = { tenants: [tenant] };
    expect(parseConfig(input, { ...env }).secretKeys).toEqual([]);
    expect(parseConfig(input, { ...env, SWITCHBOARD_SECRET_KEY: hex }).secretKeys).toEqual([
      Buffer.from(hex, 'hex'),
    ]);
    expect(
      parseConfig(input, { ...env, SWITCHBOARD_SECRET_KEY: b64, SWITCHBOARD_SECRET_KEY_PREVIOUS: hex })
        .secretKeys,
    ).toEqual([Buffer.alloc(32, 3), Buffer.from(hex, 'hex')]);
    const dir = mkdtempSync(join(tmpdir(), 'sb-config-'));
    writeFileSync(join(dir, 'key'), `# current first\n${b64}\n\n${hex}\n`);
    expect(parseConfig(input, { ...env, SWITCHBOARD_SECRET_KEY_FILE: join(dir, 'key') }).secretKeys).toEqual([
      Buffer.alloc(32, 3),
      Buffer.from(hex, 'hex'),
    ]);
    expect(parseConfig({ ...input, secretKeyFile: join(dir, 'key') }, env).secretKeys).toHaveLength(2);
    expect(errorOf(input, { ...env, SWITCHBOARD_SECRET_KEY: 'short' })).toMatch(
      /SWITCHBOARD_SECRET_KEY: a secret key is 32 random bytes/,
    );
    expect(
      errorOf(input, { ...env, SWITCHBOARD_SECRET_KEY: hex, SWITCHBOARD_SECRET_KEY_FILE: join(dir, 'key') }),
    ).toMatch(/not both/);
    expect(errorOf(input, { ...env, SWITCHBOARD_SECRET_KEY_PREVIOUS: hex })).toMatch(/need a current key/);
    expect(errorOf(input, { ...env, SWITCHBOARD_SECRET_KEY_FILE: join(dir, 'nope') })).toMatch(
      /SWITCHBOARD_SECRET_KEY_FILE: cannot read/,
    );
  });

  it('generates the demo key into the data folder once, beside the SQLite file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-demo-key-'));
    const databaseUrl = join(dir, 'store', 'switchboard.sqlite');
    const first = demoConfig('http://127.0.0.1:4010', { DATABASE_URL: databaseUrl });
    expect(first.secretKeys).toHaveLength(1);
    expect(readFileSync(join(dir, 'store', 'secret.key'), 'utf8').trim()).toBe(
      first.secretKeys[0]?.toString('base64'),
    );
    const again = demoConfig('http://127.0.0.1:4010', { DATABASE_URL: databaseUrl });
    expect(again.secretKeys).toEqual(first.secretKeys);
    const given = 'cd'.repeat(32);
    expect(
      demoConfig('http://127.0.0.1:4010', { DATABASE_URL: databaseUrl, SWITCHBOARD_SECRET_KEY: given })
        .secretKeys,
    ).toEqual([Buffer.from(given, 'hex')]);
  });

  it('builds the demo configuration of DESIGN.md section 2', () => {
    const config = demoConfig('http://127.0.0.1:4010', {});
    expect(config.port).toBe(8080);
    expect(config.tenants.map((t) => [t.id, simSettingsOf(t).firm, t.sync.hotIntervalSeconds])).toEqual([
      ['demo', 'riverside', 2],
    ]);
    expect(config.clients[0]?.tokenSha256).toBe(sha256Hex('demo-token'));
    expect(demoSettings({})).toEqual({
      simPort: 4010,
      fhirSimPort: 4011,
      demoToken: 'demo-token',
      operatorToken: 'demo-operator-token',
      fhirSim: { mode: 'start' },
    });
    // The operator console's client (issue 15): an operator on every tenant, its token overridable.
    const operator = config.clients.find((c) => c.operator === true);
    expect(operator).toMatchObject({ id: 'demo-operator', tenants: ['*'] });
    expect(operator?.tokenSha256).toBe(sha256Hex('demo-operator-token'));
    const overridden = demoConfig('http://127.0.0.1:4010', {
      SWITCHBOARD_DEMO_OPERATOR_TOKEN: 'another-operator',
    });
    expect(overridden.clients.find((c) => c.operator)?.tokenSha256).toBe(sha256Hex('another-operator'));
    expect(demoSettings({ SWITCHBOARD_DEMO_OPERATOR_TOKEN: 'another-operator' }).operatorToken).toBe(
      'another-operator',
    );
    expect(
      demoSettings({ SIM_PORT: '4999', FHIR_SIM_PORT: '4998', SWITCHBOARD_DEMO_TOKEN: 'other-token-value' }),
    ).toMatchObject({ simPort: 4999, fhirSimPort: 4998, demoToken: 'other-token-value' });
    expect(() => demoSettings({ SIM_PORT: 'abc' })).toThrow(/SIM_PORT/);
    expect(() => demoSettings({ FHIR_SIM_PORT: '70000' })).toThrow(/FHIR_SIM_PORT/);
  });

  it('adds tenant demo-fhir on the FHIR simulator, covered by the demo token, unless the instance joins a shared sim', () => {
    const config = demoConfig('http://127.0.0.1:4010', {}, 'http://127.0.0.1:4011');
    expect(config.tenants.map((t) => t.id)).toEqual(['demo', 'demo-fhir']);
    const fhir = config.tenants[1]?.connector;
    expect(fhir).toMatchObject({
      kind: 'fhir',
      baseUrl: 'http://127.0.0.1:4011/firm/riverside/fhir',
      auth: {
        method: 'password',
        tokenUrl: 'http://127.0.0.1:4011/firm/riverside/oauth/token',
        username: 'switchboard',
        password: 'demo-password',
      },
    });
    expect(config.clients[0]?.tenants).toEqual(['demo', 'demo-fhir']);
    // The practice's hours with their per-window rule: Dr. Johnson (1) sees new patients on Tuesday afternoons only.
    const hours = fhir?.kind === 'fhir' ? fhir.workingHours : [];
    expect(hours.filter((w) => w.appointmentTypes?.includes('new-patient'))).toEqual([
      expect.objectContaining({ practitioner: '1', location: '1', weekday: 2, start: '13:00', end: '17:00' }),
    ]);
    expect(hours.filter((w) => w.practitioner === '1' && w.weekday === 1)).toHaveLength(2);
    expect(demoSettings({ FHIR_SIM_URL: 'http://10.0.0.5:4011/' }).fhirSim).toEqual({
      mode: 'join',
      url: 'http://10.0.0.5:4011',
    });
    expect(demoSettings({ SIM_URL: 'http://10.0.0.5:4010' }).fhirSim).toEqual({ mode: 'off' });
    expect(() => demoSettings({ FHIR_SIM_URL: 'localhost:4011' })).toThrow(/FHIR_SIM_URL/);
  });

  it('resolves a fhir connector with each auth method and names a missing secret', () => {
    const fhirTenant = (auth: Record<string, unknown>) => ({
      id: 'cerner-practice',
      connector: {
        kind: 'fhir',
        baseUrl: 'https://fhir.example.org/r4/practice-1/',
        auth: { tokenUrl: 'https://fhir.example.org/token', ...auth },
        capabilities: { slotSearchMaxDays: 3 },
        appointmentTypes: [{ system: 'urn:vendor:type', code: '12', as: 'follow-up', minutes: 15 }],
      },
    });
    const config = parseConfig(
      {
        tenants: [
          fhirTenant({ method: 'password', username: 'sb', passwordEnv: 'RIVERSIDE_PASSWORD' }),
          { ...fhirTenant({ method: 'client_secret_basic', clientId: 'sb', clientSecret: 'x' }), id: 'b' },
          {
            ...fhirTenant({
              method: 'private_key_jwt',
              clientId: 'sb',
              privateKeyFile: '/k.pem',
              algorithm: 'ES384',
            }),
            id: 'c',
          },
        ],
      },
      env,
    );
    expect(config.tenants.map((t) => t.connector.kind)).toEqual(['fhir', 'fhir', 'fhir']);
    expect(config.tenants[0]?.connector).toMatchObject({
      baseUrl: 'https://fhir.example.org/r4/practice-1',
      auth: { method: 'password', password: 's3cret' },
      capabilities: { slotSearchMaxDays: 3 },
      appointmentTypes: [{ code: '12', as: 'follow-up', minutes: 15, newPatientOnly: false }],
      pageSize: 100,
    });
    expect(errorOf({ tenants: [fhirTenant({ method: 'client_secret_post', clientId: 'sb' })] })).toContain(
      'tenants[0].connector.auth.clientSecret',
    );
    expect(
      errorOf({ tenants: [fhirTenant({ method: 'private_key_jwt', clientId: 'sb', algorithm: 'RS256' })] }),
    ).toContain('tenants[0].connector.auth');
  });

  it('takes working hours for a FHIR upstream without Slots, and names what is missing or unknown', () => {
    const tenant = (connector: Record<string, unknown>) => ({
      id: 'modmed-practice',
      connector: {
        kind: 'fhir',
        baseUrl: 'https://lakeside.example/ema/fhir/v2',
        auth: {
          method: 'password',
          tokenUrl: 'https://lakeside.example/token',
          username: 'sb',
          password: 'x',
        },
        appointmentTypes: [{ system: 'urn:vendor:type', code: 'FU15', as: 'follow-up', minutes: 15 }],
        ...connector,
      },
    });
    const window = { practitioner: 'P1', location: 'L1', weekday: 2, start: '08:00', end: '12:00' };
    const config = parseConfig({
      tenants: [
        tenant({
          capabilities: { availability: 'hours' },
          workingHours: [
            window,
            { ...window, start: '13:00', end: '24:00', appointmentTypes: ['follow-up'] },
          ],
        }),
      ],
    });
    expect(config.tenants[0]?.connector).toMatchObject({
      capabilities: { availability: 'hours' },
      workingHours: [window, { ...window, start: '13:00', end: '24:00', appointmentTypes: ['follow-up'] }],
    });
    expect(errorOf({ tenants: [tenant({ capabilities: { availability: 'hours' } })] })).toContain(
      'tenants[0].connector.workingHours: availability "hours" needs the working hours',
    );
    expect(
      errorOf({ tenants: [tenant({ workingHours: [{ ...window, appointmentTypes: ['FU15'] }] })] }),
    ).toContain(
      'tenants[0].connector.workingHours[0].appointmentTypes[0]: FU15 is not one of appointmentTypes',
    );
    expect(errorOf({ tenants: [tenant({ workingHours: [{ ...window, end: '07:00' }] })] })).toContain(
      'tenants[0].connector.workingHours[0].end: start must be before end',
    );
    expect(errorOf({ tenants: [tenant({ workingHours: [{ ...window, start: '8:00' }] })] })).toContain(
      'tenants[0].connector.workingHours[0].start',
    );
  });

  it('retries webhooks for at least three days and allowlists nothing by default', () => {
    const { webhooks } = parseConfig({ tenants: [tenant] }, env);
    expect(webhooks.allowlist).toEqual([]);
    expect(webhooks.allowedPorts).toEqual([443]);
    expect(webhooks.retry.maxAgeSeconds).toBeGreaterThanOrEqual(3 * 24 * 3600);
    // Enough attempts that the age, not the count, ends the retries.
    let elapsed = 0;
    let attempts = 1;
    for (
      ;
      attempts < webhooks.retry.maxAttempts && elapsed < webhooks.retry.maxAgeSeconds * 1000;
      attempts++
    ) {
      elapsed += Math.min(webhooks.retry.maxDelayMs, webhooks.retry.baseDelayMs * 2 ** (attempts - 1)) / 2;
    }
    expect(elapsed).toBeGreaterThanOrEqual(webhooks.retry.maxAgeSeconds * 1000);
    expect(webhooks.timeoutMs).toBeLessThanOrEqual(30_000);
  });

  it('allowlists loopback with short webhook retries in the demo', () => {
    const { webhooks } = demoConfig('http://127.0.0.1:4010', {});
    expect(webhooks.allowlist).toEqual(['127.0.0.0/8', '::1/128', 'localhost']);
    expect(webhooks.retry.maxAgeSeconds).toBeLessThan(3600);
  });

  it('names an invalid webhook allowlist entry or retry setting', () => {
    expect(errorOf({ tenants: [tenant], webhooks: { allowlist: ['10.0.0.0/8', 'http://x'] } })).toContain(
      'webhooks.allowlist[1]',
    );
    expect(errorOf({ tenants: [tenant], webhooks: { retry: { maxAttempts: 0 } } })).toContain(
      'webhooks.retry.maxAttempts',
    );
    expect(errorOf({ tenants: [tenant], webhooks: { retries: 3 } })).toContain('webhooks');
  });
});
