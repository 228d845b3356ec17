/**
 * Real HTTP webhook receivers on 127.0.0.1 (port 0) for the dispatcher tests: they record every request (raw
 * body and headers, as a receiver must verify them), answer as the test says (status, headers, or never), and
 * can go down (connections refused) and come back up on the same port.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One request as the receiver saw it. */
export interface ReceivedWebhook {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

/** How to answer one request; `hang` never answers. */
export type ReceiverAnswer = { status: number; headers?: Record<string, string>; body?: string } | 'hang';

export interface WebhookReceiver {
  /** `http://127.0.0.1:{port}/hook`. */
  readonly url: string;
  readonly port: number;
  /** Every request, in arrival order (including handshakes and heartbeats). */
  readonly received: ReceivedWebhook[];
  /** Replaces how requests are answered. */
  answer(handler: (request: ReceivedWebhook) => ReceiverAnswer): void;
  /** Stops accepting connections (callers see ECONNREFUSED) and drops open ones. */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  close(): Promise<void>;
}

/** Starts a receiver that answers 204 until told otherwise. */
export async function startWebhookReceiver(
  handler: (request: ReceivedWebhook) => ReceiverAnswer = () => ({ status: 204 }),
): Promise<WebhookReceiver> {
  let answer = handler;
  const received: ReceivedWebhook[] = [];
  const sockets = new Set<Socket>();
  const hanging = new Set<ServerResponse>();

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (typeof value === 'string') headers[name] = value;
        else if (Array.isArray(value)) headers[name] = value.join(', ');
      }
      const request: ReceivedWebhook = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      received.push(request);
      const reply = answer(request);
      if (reply === 'hang') {
        hanging.add(res);
        return;
      }
      res.writeHead(reply.status, reply.headers);
      res.end(reply.body ?? '');
    });
  };

  let server: Server = createServer(onRequest);
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  const track = (s: Server) =>
    s.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
  track(server);
  await listen(0);
  const port = (server.address() as AddressInfo).port;

  const stop = () =>
    new Promise<void>((resolve) => {
      for (const res of hanging) res.destroy();
      hanging.clear();
      for (const socket of sockets) socket.destroy();
      if (!server.listening) {
        resolve();
        return;
      }
      server.close(() => resolve());
    });

  return {
    url: `http://127.0.0.1:${port}/hook`,
    port,
    received,
    answer(next) {
      answer = next;
    },
    down: stop,
    async up() {
      server = createServer(onRequest);
      track(server);
      await listen(port);
    },
    close: stop,
  };
}

/**
 * Waits until `condition` holds, checking every few milliseconds; fails after `timeoutMs` with `message`.
 * A bounded wait for a state, not a timing assertion.
 */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  message: string,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${message}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
