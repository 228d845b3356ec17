import type { Bundle, Parameters } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { startExampleReceiver, type ExampleReceiver } from '../../src/webhooks/example-receiver.js';
import type { BackportSubscription } from '../../src/webhooks/subscriptions/subscription-resource.js';
import { testStoreFactories } from '../support/test-stores.js';
import { subscriptionResource, type SubscriptionOptions } from '../support/webhook-fixtures.js';
import { eventNotifications, parseNotification, verifies } from '../support/webhook-notifications.js';
import { startWebhookReceiver, waitUntil, type ReceivedWebhook } from '../support/webhook-receiver.js';
import { expectOutcome, fhirGet } from './support/fhir-http.js';
import {
  createSubscription,
  fhirSend,
  frontDeskBooks,
  frontDeskCancels,
  useSubscriptionFacade,
  waitForStatus,
} from './support/subscription-facade.js';

const auth = { authorization: 'Bearer test' };

describe.each(testStoreFactories)('Subscription notifications end to end ($name)', (factory) => {
  const facade = useSubscriptionFacade(factory);
  const requestsAt = (path: string): ReceivedWebhook[] =>
    facade().receiver.received.filter((r) => r.path === `/hook/${path}`);
  const notificationsAt = (path: string) => eventNotifications(requestsAt(path));
  /** A subscription to `topic` at `/hook/{path}`, active. */
  const subscribe = async (path: string, options: Partial<SubscriptionOptions> = {}) => {
    const { h, receiver } = facade();
    const created = await createSubscription(
      h,
      subscriptionResource({ endpoint: `${receiver.url}/${path}`, ...options }),
    );
    const id = created.subscription.id ?? '';
    await waitForStatus(h, id, 'active');
    return { id, secret: created.secret, subscription: created.subscription };
  };

  it('delivers a front-desk booking and cancellation as signed notification Bundles that standardwebhooks verifies', async () => {
    const { h } = facade();
    const booked = await subscribe('booked', { topic: 'appointment-booked', content: 'full-resource' });
    const cancelled = await subscribe('cancelled', { topic: 'appointment-cancelled' });

    const appointment = await frontDeskBooks(h);
    await waitUntil(() => notificationsAt('booked').length === 1, 'the booking was notified');
    const [notification] = notificationsAt('booked');
    expect(notification).toMatchObject({ eventNumbers: [1], foci: [`Appointment/${appointment.id}`] });
    expect(notification?.bundle.entry?.[1]?.resource).toMatchObject({
      resourceType: 'Appointment',
      id: appointment.id,
    });
    const request = requestsAt('booked').find((r) => r.headers['webhook-id'] === notification?.webhookId);
    if (!request) throw new Error('no request');
    expect(request.headers['content-type']).toMatch(/^application\/fhir\+json/);
    expect(verifies(request, booked.secret)).toBe(true);
    expect(
      verifies({ ...request, body: request.body.replace(appointment.id, 'someone-else') }, booked.secret),
    ).toBe(false);
    expect(verifies(request, cancelled.secret)).toBe(false);

    await frontDeskCancels(h, appointment);
    await waitUntil(() => notificationsAt('cancelled').length === 1, 'the cancellation was notified');
    const [cancellation] = notificationsAt('cancelled');
    expect(cancellation).toMatchObject({ eventNumbers: [1], foci: [`Appointment/${appointment.id}`] });
    const cancelRequest = requestsAt('cancelled').find(
      (r) => r.headers['webhook-id'] === cancellation?.webhookId,
    );
    expect(cancelRequest && verifies(cancelRequest, cancelled.secret)).toBe(true);
  });

  it('sends Standard Webhooks envelopes to an application/json subscription', async () => {
    const { h } = facade();
    const json = await subscribe('json', { topic: 'appointment-booked', contentType: 'application/json' });
    const appointment = await frontDeskBooks(h);
    const events = () => requestsAt('json').filter((r) => r.body.includes('"appointment.booked"'));
    await waitUntil(() => events().length === 1, 'the envelope arrived');
    const [request] = events();
    if (!request) throw new Error('no request');
    expect(request.headers['content-type']).toMatch(/^application\/json/);
    expect(verifies(request, json.secret)).toBe(true);
    expect(JSON.parse(request.body)).toMatchObject({
      type: 'appointment.booked',
      data: { eventNumber: 1, focus: { reference: `Appointment/${appointment.id}` } },
    });
  });

  it('replays events by event number with $events, GET and POST, at any payload level', async () => {
    const { h } = facade();
    const { id } = await subscribe('events', { topic: 'appointment-booked' });
    const first = await frontDeskBooks(h);
    const second = await frontDeskBooks(h);
    await waitUntil(() => notificationsAt('events').length === 2, 'both bookings were notified');

    const replay = async (query: string) => {
      const answer = await fhirGet<Bundle>(h, `Subscription/${id}/$events${query}`, auth);
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      const parsed = parseNotification({
        method: 'GET',
        path: '',
        headers: {},
        body: JSON.stringify(answer.body),
      });
      expect(parsed.type).toBe('query-event');
      return parsed;
    };
    expect(await replay('')).toMatchObject({
      eventNumbers: [1, 2],
      foci: [`Appointment/${first.id}`, `Appointment/${second.id}`],
    });
    expect(await replay('?eventsSinceNumber=2')).toMatchObject({
      eventNumbers: [2],
      foci: [`Appointment/${second.id}`],
    });
    expect((await replay('?eventsSinceNumber=1&eventsUntilNumber=1')).eventNumbers).toEqual([1]);
    expect((await replay('?eventsSinceNumber=3')).eventNumbers).toEqual([]);
    const full = await replay('?eventsSinceNumber=2&content=full-resource');
    expect(full.bundle.entry?.[1]?.resource).toMatchObject({ resourceType: 'Appointment', id: second.id });
    expect(h.audit).toContainEqual(
      expect.objectContaining({ action: 'read', resourceType: 'Appointment', resourceIds: [second.id] }),
    );
    const empty = await replay('?content=empty');
    expect(empty.foci).toEqual([]);
    expect(empty.bundle.entry).toHaveLength(1);

    const posted = await fhirSend<Bundle>(h, 'POST', `Subscription/${id}/$events`, {
      resourceType: 'Parameters',
      parameter: [{ name: 'eventsSinceNumber', valueString: '2' }],
    });
    expect(posted.status).toBe(200);
    expect(
      parseNotification({ method: 'POST', path: '', headers: {}, body: JSON.stringify(posted.body) })
        .eventNumbers,
    ).toEqual([2]);

    expectOutcome(
      await fhirGet(h, `Subscription/${id}/$events?eventsSinceNumber=two`, auth),
      400,
      'eventsSinceNumber',
    );
    expectOutcome(await fhirGet(h, `Subscription/${id}/$events?content=everything`, auth), 400, 'content');
    expectOutcome(await fhirGet(h, 'Subscription/nope/$events', auth), 404);
  });

  it('rotates the secret: during the overlap both secrets verify; with no overlap only the new one does', async () => {
    const { h } = facade();
    const { id, secret: first } = await subscribe('rotate', { topic: 'appointment-booked' });
    const rotated = await fhirSend<Parameters>(h, 'POST', `Subscription/${id}/$rotate-secret`);
    expect(rotated.status, JSON.stringify(rotated.body)).toBe(200);
    const second = rotated.body.parameter?.find((p) => p.name === 'secret')?.valueString ?? '';
    expect(second).toMatch(/^whsec_/);
    expect(second).not.toBe(first);
    expect(rotated.headers.get('x-switchboard-webhook-secret')).toBe(second);
    expect(rotated.headers.get('cache-control')).toBe('no-store');
    expect(
      rotated.body.parameter?.find((p) => p.name === 'previous-secret-expires')?.valueInstant,
    ).toBeTruthy();

    await frontDeskBooks(h);
    await waitUntil(() => notificationsAt('rotate').length === 1, 'a notification after the rotation');
    const during = requestsAt('rotate').find(
      (r) => r.headers['webhook-id'] === notificationsAt('rotate')[0]?.webhookId,
    );
    if (!during) throw new Error('no request');
    expect(verifies(during, first)).toBe(true);
    expect(verifies(during, second)).toBe(true);

    const leaked = await fhirSend<Parameters>(
      h,
      'POST',
      `Subscription/${id}/$rotate-secret?overlap-seconds=0`,
    );
    expect(leaked.status).toBe(200);
    const third = leaked.body.parameter?.find((p) => p.name === 'secret')?.valueString ?? '';
    await frontDeskBooks(h);
    await waitUntil(() => notificationsAt('rotate').length === 2, 'a notification after the second rotation');
    const after = requestsAt('rotate').find(
      (r) => r.headers['webhook-id'] === notificationsAt('rotate')[1]?.webhookId,
    );
    if (!after) throw new Error('no request');
    expect(verifies(after, third)).toBe(true);
    expect(verifies(after, second)).toBe(false);
    expect(verifies(after, first)).toBe(false);
    expectOutcome(
      await fhirSend(h, 'POST', `Subscription/${id}/$rotate-secret?overlap-seconds=99999999`),
      400,
      'overlap-seconds',
    );
  });

  it('stops delivering once a subscription is deleted', async () => {
    const { h } = facade();
    const doomed = await subscribe('deleted', { topic: 'appointment-booked' });
    await subscribe('control', { topic: 'appointment-booked' });
    expect((await fhirSend(h, 'DELETE', `Subscription/${doomed.id}`)).status).toBe(204);
    const appointment = await frontDeskBooks(h);
    await waitUntil(
      () => notificationsAt('control').some((n) => n.foci.includes(`Appointment/${appointment.id}`)),
      'the control subscription heard of the booking',
    );
    expect(notificationsAt('deleted')).toEqual([]);
  });

  it('pauses with status off and, switched back on, catches up on what happened meanwhile', async () => {
    const { h } = facade();
    const { id, subscription } = await subscribe('paused', { topic: 'appointment-booked' });
    const current = async () => (await fhirGet<BackportSubscription>(h, `Subscription/${id}`, auth)).body;
    const off = await fhirSend(h, 'PUT', `Subscription/${id}`, { ...(await current()), status: 'off' });
    expect(off.status).toBe(200);
    const missed = await frontDeskBooks(h);
    expect(notificationsAt('paused')).toEqual([]);

    const on = await fhirSend<BackportSubscription>(h, 'PUT', `Subscription/${id}`, {
      ...(await current()),
      status: 'requested',
    });
    expect(on.status).toBe(200);
    expect(on.body.status).toBe('requested');
    await waitForStatus(h, id, 'active');
    await waitUntil(() => notificationsAt('paused').length === 1, 'the missed booking was caught up');
    expect(notificationsAt('paused')[0]?.foci).toEqual([`Appointment/${missed.id}`]);
    expect(subscription.id).toBe(id);
  });

  it('dead-letters an event after its retries, lists it, and redrives it on request', async () => {
    const { h, receiver } = facade();
    const { id } = await subscribe('dead', { topic: 'appointment-booked' });
    receiver.answer((r) => (r.path === '/hook/dead' ? { status: 500 } : { status: 204 }));
    try {
      const appointment = await frontDeskBooks(h);
      const deadLetters = async () => {
        const answer = await fhirGet<Parameters>(h, `Subscription/${id}/$dead-letters`, auth);
        expect(answer.status).toBe(200);
        return answer.body.parameter ?? [];
      };
      await waitUntil(async () => (await deadLetters()).length === 1, 'the event was dead-lettered');
      const [letter] = await deadLetters();
      const part = (name: string) => letter?.part?.find((p) => p.name === name);
      expect(part('event-number')?.valueString).toBe('1');
      expect(part('event-type')?.valueCode).toBe('appointment.booked');
      expect(part('focus')?.valueReference?.reference).toBe(`Appointment/${appointment.id}`);
      expect(part('attempts')?.valueInteger).toBe(3);
      expect(part('last-status')?.valueInteger).toBe(500);
      expect(notificationsAt('dead').length).toBe(3);
    } finally {
      receiver.answer(() => ({ status: 204 }));
    }
    const redriven = await fhirSend<Parameters>(h, 'POST', `Subscription/${id}/$redrive`, {
      resourceType: 'Parameters',
      parameter: [{ name: 'event-number', valueString: '1' }],
    });
    expect(redriven.status).toBe(200);
    expect(redriven.body.parameter?.[0]).toEqual({ name: 'redriven', valueInteger: 1 });
    await waitUntil(() => notificationsAt('dead').length === 4, 'the redriven event was delivered');
    const after = await fhirGet<Parameters>(h, `Subscription/${id}/$dead-letters`, auth);
    expect(after.body).toEqual({ resourceType: 'Parameters' });
  });

  it('the example receiver verifies genuine deliveries, prints them, and answers a forged one with 401', async () => {
    const { h } = facade();
    // Where the example receiver will listen: a port free right now.
    const probe = await startWebhookReceiver();
    const port = probe.port;
    await probe.close();
    // As in the README: create first (the handshake fails, nothing listens yet), start the receiver with the
    // secret, then switch the subscription back on.
    const created = await createSubscription(
      h,
      subscriptionResource({ endpoint: `http://127.0.0.1:${port}/`, topic: 'appointment-booked' }),
    );
    const id = created.subscription.id ?? '';
    await waitForStatus(h, id, 'error');
    const printed: string[] = [];
    let example: ExampleReceiver | undefined;
    try {
      example = await startExampleReceiver({
        port,
        secrets: [created.secret],
        print: (line) => printed.push(line),
      });
      const current = (await fhirGet<BackportSubscription>(h, `Subscription/${id}`, auth)).body;
      expect(
        (await fhirSend(h, 'PUT', `Subscription/${id}`, { ...current, status: 'requested' })).status,
      ).toBe(200);
      await waitForStatus(h, id, 'active');
      const appointment = await frontDeskBooks(h);
      const booked = () => example?.events.filter((e) => e.focus === `Appointment/${appointment.id}`) ?? [];
      await waitUntil(() => booked().length === 1, 'the example receiver got the booking');
      expect(booked()[0]).toMatchObject({ type: 'appointment-booked', eventNumber: '1', duplicate: false });
      expect(
        printed.some((line) => line.includes(`Appointment/${appointment.id}`) && line.includes('#1')),
      ).toBe(true);

      const forged = await fetch(example.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/fhir+json',
          'webhook-id': 'msg_forged',
          'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
          'webhook-signature': 'v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
        },
        body: '{"resourceType":"Bundle","type":"history"}',
      });
      expect(forged.status).toBe(401);
      expect(printed.at(-1)).toContain('REJECTED');
      expect(example.events.some((e) => e.webhookId === 'msg_forged')).toBe(false);
    } finally {
      await example?.close();
    }
  });
});
