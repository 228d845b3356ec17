/**
 * An example webhook receiver — documentation as code for subscribers (DESIGN.md section 6; standards.md 4.2
 * and 5). Run it against the demo with `switchboard receive-webhooks --port 9000 --secret whsec_…` and point a
 * Subscription's `channel.endpoint` at `http://127.0.0.1:9000/`. For each POST it:
 * 1. reads the raw body (never re-serialised JSON: the signature covers the exact bytes);
 * 2. verifies `webhook-id` / `webhook-timestamp` / `webhook-signature` with the `standardwebhooks` library
 *    (HMAC-SHA256, constant-time, ±5 min timestamp tolerance) and answers 401 when no secret verifies — pass the
 *    old and the new secret during a rotation;
 * 3. prints each event: its type, event number and focus reference (references only, never PHI), marking a
 *    `webhook-id` seen before as a duplicate (deliveries are at-least-once);
 * 4. answers 204 — a 2xx quickly, as Standard Webhooks asks; real work belongs on a queue.
 * `GET /` shows the last events received: a tiny dashboard.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Bundle, Parameters } from '@medplum/fhirtypes';
import { Webhook } from 'standardwebhooks';

export interface ExampleReceiverOptions {
  port: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** The subscription's `whsec_` secret; two during a rotation overlap. */
  secrets: readonly string[];
  /** Where each line goes; default stdout. */
  print?: (line: string) => void;
}

/** One event as the receiver understood it. */
export interface ReceivedEvent {
  /** `appointment.booked` (JSON envelopes), the topic id (FHIR Bundles), or `handshake` / `heartbeat`. */
  type: string;
  eventNumber?: string;
  focus?: string;
  webhookId: string;
  duplicate: boolean;
}

export interface ExampleReceiver {
  /** `http://host:port/` */
  url: string;
  /** Every verified event, oldest first. */
  events: ReceivedEvent[];
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;
const MAX_EVENTS_KEPT = 1000;

export async function startExampleReceiver(options: ExampleReceiverOptions): Promise<ExampleReceiver> {
  const verifiers = options.secrets.map((secret) => new Webhook(secret));
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const events: ReceivedEvent[] = [];
  // A real receiver keeps the webhook-ids it has processed in its database, for as long as retries last.
  const seen = new Set<string>();

  const server = createServer((req, res) => {
    void (async () => {
      if (req.method === 'GET') {
        const lines = events.slice(-50).map(formatEvent);
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(`${lines.length} most recent events\n${lines.join('\n')}\n`);
        return;
      }
      const body = await readBody(req);
      if (body === undefined) {
        res.writeHead(413).end();
        return;
      }
      const headers = {
        'webhook-id': req.headers['webhook-id']?.toString() ?? '',
        'webhook-timestamp': req.headers['webhook-timestamp']?.toString() ?? '',
        'webhook-signature': req.headers['webhook-signature']?.toString() ?? '',
      };
      if (!verifiers.some((webhook) => verifies(webhook, body, headers))) {
        print(`REJECTED  ${headers['webhook-id'] || '(no webhook-id)'}: signature does not verify`);
        res.writeHead(401).end();
        return;
      }
      const duplicate = seen.has(headers['webhook-id']);
      seen.add(headers['webhook-id']);
      for (const event of describe(body, headers['webhook-id'], duplicate)) {
        events.push(event);
        if (events.length > MAX_EVENTS_KEPT) events.shift();
        print(formatEvent(event));
      }
      res.writeHead(204).end();
    })().catch(() => {
      if (!res.headersSent) res.writeHead(400).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', resolve);
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address.includes(':') ? `[${address}]` : address}:${port}/`,
    events,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function verifies(webhook: Webhook, body: string, headers: Record<string, string>): boolean {
  try {
    webhook.verify(body, headers);
    return true;
  } catch {
    return false;
  }
}

/** The events of a notification Bundle (`application/fhir+json`) or a Standard Webhooks envelope (`application/json`). */
function describe(body: string, webhookId: string, duplicate: boolean): ReceivedEvent[] {
  const message = JSON.parse(body) as Bundle | { type: string; data: Record<string, unknown> };
  if (!('resourceType' in message)) {
    const focus = message.data.focus as { reference?: string } | undefined;
    const eventNumber = message.data.eventNumber;
    return [
      {
        type: message.type,
        ...(eventNumber !== undefined ? { eventNumber: String(eventNumber as number) } : {}),
        ...(focus?.reference ? { focus: focus.reference } : {}),
        webhookId,
        duplicate,
      },
    ];
  }
  // entry[0] of a backport notification Bundle is the SubscriptionStatus Parameters.
  const status = (message.entry?.[0]?.resource as Parameters | undefined)?.parameter ?? [];
  const kind = status.find((p) => p.name === 'type')?.valueCode ?? 'unknown';
  const topic = status
    .find((p) => p.name === 'topic')
    ?.valueCanonical?.split('/')
    .pop();
  const notifications = status.filter((p) => p.name === 'notification-event');
  if (kind !== 'event-notification' || notifications.length === 0)
    return [{ type: kind, webhookId, duplicate }];
  return notifications.map((event) => {
    const part = (name: string) => event.part?.find((p) => p.name === name);
    const focus = part('focus')?.valueReference?.reference;
    return {
      type: topic ?? kind,
      eventNumber: part('event-number')?.valueString,
      ...(focus ? { focus } : {}),
      webhookId,
      duplicate,
    };
  });
}

function formatEvent(event: ReceivedEvent): string {
  const number = event.eventNumber === undefined ? '' : `#${event.eventNumber}`;
  return [number.padEnd(6), event.type.padEnd(24), event.focus ?? '', event.duplicate ? '(duplicate)' : '']
    .join(' ')
    .trimEnd();
}

async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
