import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAuditTrail } from '../../src/audit/audit-trail.js';
import { TOOL_NAMES } from '../../mcp/tool-server.js';
import { DEMO_TOKEN, MCP_DIALECTS, connect, startMcpDemo, type McpDemo } from './support/mcp-demo.js';

// Who may use /mcp/{tenant} and which tools (issue 13): the FHIR API's bearer tokens, tenant binding and SMART
// scopes, and the same audit trail.
const INITIALIZE = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
};

async function post(url: string, headers: Record<string, string>, body: unknown = INITIALIZE) {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined,
  };
}

describe.each(MCP_DIALECTS)('MCP access control ($dialect)', ({ dialect }) => {
  let demo: McpDemo;
  beforeAll(async () => {
    demo = await startMcpDemo({
      dialect,
      secondTenant: true,
      clients: [
        { id: 'patient-reader', token: 'patient-reader-token', scopes: ['system/Patient.rs'] },
        { id: 'read-only', token: 'read-only-token', scopes: ['system/*.rs'] },
        {
          id: 'other-practice',
          token: 'other-practice-token',
          scopes: ['system/*.cruds'],
          tenants: ['other'],
        },
      ],
    });
  });
  afterAll(async () => {
    await demo?.stop();
  });

  it('lists the eight tools, each with an input and an output schema', async () => {
    const agent = await demo.client();
    expect(agent.tools.map((t) => t.name)).toEqual([...TOOL_NAMES]);
    for (const tool of agent.tools) {
      expect(tool.inputSchema.type).toBe('object');
      expect(tool.outputSchema?.type, tool.name).toBe('object');
      expect(tool.description?.length).toBeGreaterThan(20);
    }
    expect(agent.tools.find((t) => t.name === 'find_slots')?.annotations?.readOnlyHint).toBe(true);
    expect(agent.tools.find((t) => t.name === 'cancel_appointment')?.annotations?.destructiveHint).toBe(true);
  });

  it('answers 401 with a Bearer challenge without a token, and 401 invalid_token with a wrong one', async () => {
    const none = await post(demo.url, {});
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="switchboard"');
    expect(none.body).toMatchObject({ jsonrpc: '2.0', error: { code: -32001 }, id: null });
    const wrong = await post(demo.url, { authorization: 'Bearer not-a-token' });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toContain('error="invalid_token"');
    await expect(connect(demo.url, 'not-a-token')).rejects.toThrow();
  });

  it('keeps tenants apart: a token of one tenant gets 404 at another, like an unknown tenant', async () => {
    const otherUrl = demo.url.replace(/\/demo$/, '/other');
    const foreign = await post(otherUrl, { authorization: `Bearer ${DEMO_TOKEN}` });
    expect(foreign.status).toBe(404);
    expect(foreign.body).toEqual({
      jsonrpc: '2.0',
      error: { code: -32001, message: 'tenant other is not known' },
      id: null,
    });
    expect((await post(demo.url, { authorization: 'Bearer other-practice-token' })).status).toBe(404);
    const unknown = await post(demo.url.replace(/\/demo$/, '/nowhere'), {
      authorization: `Bearer ${DEMO_TOKEN}`,
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({
      jsonrpc: '2.0',
      error: { code: -32001, message: 'tenant nowhere is not known' },
      id: null,
    });
    const own = await connect(otherUrl, 'other-practice-token');
    expect(own.tools).toHaveLength(TOOL_NAMES.length);
    await own.close();
  });

  it('rejects a foreign Host header (DNS-rebinding protection) before authentication', async () => {
    // fetch cannot set Host; node:http can, as a DNS-rebinding page's browser would send it.
    const status = (host: string) =>
      new Promise<number>((done, fail) => {
        const url = new URL(demo.url);
        const req = request(
          {
            host: url.hostname,
            port: url.port,
            path: url.pathname,
            method: 'POST',
            headers: {
              host,
              authorization: `Bearer ${DEMO_TOKEN}`,
              'content-type': 'application/json',
              accept: 'application/json, text/event-stream',
            },
          },
          (res) => {
            res.resume();
            done(res.statusCode ?? 0);
          },
        );
        req.on('error', fail);
        req.end(JSON.stringify(INITIALIZE));
      });
    expect(await status('evil.example.com')).toBe(403);
    expect(await status(new URL(demo.url).host)).toBe(200);
  });

  it('answers a body that is not JSON with 400, and GET (no SSE stream in stateless mode) with 405', async () => {
    const broken = await post(demo.url, { authorization: `Bearer ${DEMO_TOKEN}` }, '{"jsonrpc":');
    expect(broken.status).toBe(400);
    expect(broken.body).toMatchObject({ jsonrpc: '2.0', error: { code: -32700 }, id: null });
    const get = await fetch(demo.url, {
      headers: { authorization: `Bearer ${DEMO_TOKEN}`, accept: 'text/event-stream' },
    });
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
  });

  it("refuses a tool whose FHIR interactions the client's scopes do not grant, naming the scope, and does nothing", async () => {
    const reader = await demo.client('patient-reader-token');
    const found = await reader.ok<{ candidates: unknown[] }>('find_patient', { name: 'John Smith' });
    expect(found.candidates.length).toBeGreaterThan(0);
    expect(await reader.error('find_slots', { appointment_type: 'follow-up' })).toMatch(
      /^find_slots needs scope system\/Slot\.rs and system\/Schedule\.rs and system\/Practitioner\.rs and system\/Location\.rs/,
    );
    expect(await reader.error('practice_info')).toMatch(/needs scope system\/Location\.rs/);
    const readOnly = await demo.client('read-only-token');
    const before = demo.sim.server.state('riverside').appointments.length;
    const slots = await readOnly.ok<{ slots: Array<{ slot_id: string }> }>('find_slots', {
      appointment_type: 'follow-up',
      limit: 1,
    });
    const patient = found.candidates[0] as { patient_id: string };
    expect(
      await readOnly.error('book_appointment', {
        patient_id: patient.patient_id,
        slot_id: slots.slots[0]?.slot_id,
      }),
    ).toMatch(/^book_appointment needs scope system\/Appointment\.c,/);
    expect(await readOnly.error('cancel_appointment', { appointment_id: 'x' })).toMatch(
      /needs scope system\/Appointment\.u/,
    );
    expect(
      await readOnly.error('register_patient', { name: 'Ann Example', birth_date: '1990-01-01' }),
    ).toMatch(/needs scope system\/Patient\.c/);
    expect(demo.sim.server.state('riverside').appointments.length).toBe(before);
  });

  it("audits what a tool reads under the MCP client's own identity, as the FHIR API does", async () => {
    const reader = await demo.client('patient-reader-token');
    await reader.ok('find_patient', { name: 'Maria Garcia', birth_date: '1980-05-05' });
    const trail = await readAuditTrail(demo.app.store, 'demo', { limit: 1000 });
    expect(trail.some((e) => e.clientId === 'patient-reader' && e.resourceType === 'Patient')).toBe(true);
  });

  it('rejects arguments that do not match the input schema as a tool error', async () => {
    const agent = await demo.client();
    const result = await agent.call('find_slots', { practitioner: 'Chen' });
    expect(result.isError).toBe(true);
    expect(JSON.stringify(result.content)).toMatch(/appointment_type/);
  });
});

describe.each(MCP_DIALECTS)('MCP rate limit ($dialect)', ({ dialect }) => {
  let demo: McpDemo;
  beforeAll(async () => {
    // One request every 20 s after a burst of two: the third request in a row is over the limit.
    demo = await startMcpDemo({ dialect, rateLimit: { ratePerSecond: 0.05, burst: 2 } });
  });
  afterAll(async () => {
    await demo?.stop();
  });

  it('answers a client over its rate with 429 and Retry-After, as the FHIR API does, as a JSON-RPC error', async () => {
    const auth = { authorization: `Bearer ${DEMO_TOKEN}` };
    expect((await post(demo.url, auth)).status).toBe(200);
    expect((await post(demo.url, auth)).status).toBe(200);
    const refused = await post(demo.url, auth);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(refused.body).toMatchObject({ jsonrpc: '2.0', error: { code: -32001 }, id: null });
  });
});
