import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import {
  eventMessageId,
  generateWebhookSecret,
  oneOffMessageId,
  signWebhook,
} from '../../../src/webhooks/delivery/webhook-signing.js';

const body = JSON.stringify({ type: 'appointment.booked', data: { focus: 'Appointment/a1' } });

describe('Standard Webhooks signing', () => {
  it('generates whsec_ secrets of 32 random bytes', () => {
    const secret = generateWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(secret.slice('whsec_'.length), 'base64')).toHaveLength(32);
    expect(generateWebhookSecret()).not.toBe(secret);
  });

  it("signs messages the standardwebhooks library's verify accepts", () => {
    const secret = generateWebhookSecret();
    const headers = signWebhook('msg_1', new Date(), body, [secret]);
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(secret).verify(body, { ...headers })).toEqual(JSON.parse(body));
  });

  it('fails verification when the body, the timestamp or the id is tampered with, or the secret is wrong', () => {
    const secret = generateWebhookSecret();
    const headers = signWebhook('msg_1', new Date(), body, [secret]);
    const verify =
      (b: string, h: Record<string, string>, s = secret) =>
      () =>
        new Webhook(s).verify(b, h);
    expect(verify(body.replace('a1', 'a2'), { ...headers })).toThrow(WebhookVerificationError);
    expect(
      verify(body, { ...headers, 'webhook-timestamp': String(Number(headers['webhook-timestamp']) - 1) }),
    ).toThrow(WebhookVerificationError);
    expect(verify(body, { ...headers, 'webhook-id': 'msg_2' })).toThrow(WebhookVerificationError);
    expect(verify(body, { ...headers }, generateWebhookSecret())).toThrow(WebhookVerificationError);
    // A replay far outside the tolerance fails too, even correctly signed.
    const old = signWebhook('msg_1', new Date(Date.now() - 6 * 60_000), body, [secret]);
    expect(verify(body, { ...old })).toThrow(/too old/);
  });

  it('carries one signature per secret during a rotation, so either secret verifies', () => {
    const [current, previous] = [generateWebhookSecret(), generateWebhookSecret()];
    const headers = signWebhook('msg_9', new Date(), body, [current, previous]);
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(() => new Webhook(current).verify(body, { ...headers })).not.toThrow();
    expect(() => new Webhook(previous).verify(body, { ...headers })).not.toThrow();
  });

  it('gives an event the same opaque webhook-id every time, and one-off messages fresh ones', () => {
    const id = eventMessageId('demo', 'sub-1', '2026-11-21T10:00:00.000Z', 7);
    expect(eventMessageId('demo', 'sub-1', '2026-11-21T10:00:00.000Z', 7)).toBe(id);
    expect(eventMessageId('demo', 'sub-1', '2026-11-21T10:00:00.000Z', 8)).not.toBe(id);
    expect(eventMessageId('demo', 'sub-1', '2026-11-22T10:00:00.000Z', 7)).not.toBe(id);
    expect(id).toMatch(/^msg_[A-Za-z0-9_-]{27}$/);
    expect(oneOffMessageId()).not.toBe(oneOffMessageId());
  });
});
