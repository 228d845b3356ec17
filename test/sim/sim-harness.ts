/**
 * Test harness for the simulated records system: a sim on port 0 with a hand-driven clock, and a small client that
 * speaks its real HTTP API with global fetch.
 */
import type { SimServer, SimServerOptions } from '../../src/sim/sim-server.js';
import { createSimServer } from '../../src/sim/sim-server.js';
import type { SimFirmData } from '../../src/sim/sim-types.js';
import { TINY_FIRM, TINY_PASSWORD, TINY_USERNAME, tinyFirm } from '../support/tiny-firm.js';

/** A clock that moves only when told to. */
export class ManualClock {
  private ms: number;

  constructor(iso = '2026-11-20T15:00:00Z') {
    this.ms = Date.parse(iso);
  }

  readonly now = (): Date => new Date(this.ms);

  set(iso: string): void {
    this.ms = Date.parse(iso);
  }

  advanceSeconds(seconds: number): void {
    this.ms += seconds * 1000;
  }
}

/** An answer with its body already read (JSON when there is one). */
export interface SimAnswer<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

/** The token endpoint's body. */
export interface TokenBody {
  access_token: string;
  token_type: string;
  expires_in: number;
  refresh_token: string;
}

/** A running sim plus helpers bound to one firm. */
export interface SimHarness {
  sim: SimServer;
  clock: ManualClock;
  baseUrl: string;
  firm: string;
  /** Raw fetch of `/firm/{firm}{path}`. */
  fetchFirm(path: string, init?: RequestInit): Promise<Response>;
  /** `POST /oauth/token` with a form. */
  token(form: Record<string, string>): Promise<SimAnswer<TokenBody & { error?: string }>>;
  /** A password grant with the demo credentials; throws unless it succeeds. */
  login(): Promise<TokenBody>;
  /**
   * An API call (`/api{path}`), JSON in and out. Without `token` it uses a cached login, renewed once on 401;
   * with `token` it sends exactly that, so a test sees the 401.
   */
  api<T = unknown>(method: string, path: string, body?: unknown, token?: string): Promise<SimAnswer<T>>;
  /** Drops the cached token (after a reset, for instance), so the next `api` call logs in again. */
  forgetToken(): void;
  stop(): Promise<void>;
}

export interface StartSimOptions extends Partial<Omit<SimServerOptions, 'firms' | 'now'>> {
  data?: SimFirmData;
  firms?: SimServerOptions['firms'];
  clock?: ManualClock;
}

/** Starts a sim serving the tiny firm (or `options.data`) on a random port. */
export async function startSim(options: StartSimOptions = {}): Promise<SimHarness> {
  const clock = options.clock ?? new ManualClock();
  const { data, firms, clock: _clock, ...rest } = options;
  const sim = createSimServer({
    firms: firms ?? {
      [TINY_FIRM]: {
        data: data ?? tinyFirm(),
        credentials: [{ username: TINY_USERNAME, password: TINY_PASSWORD }],
      },
    },
    now: clock.now,
    ...rest,
  });
  const baseUrl = await sim.start();
  const firm = firms ? (Object.keys(firms)[0] ?? TINY_FIRM) : TINY_FIRM;
  let cachedToken: string | undefined;

  const fetchFirm = (path: string, init?: RequestInit): Promise<Response> =>
    fetch(`${baseUrl}/firm/${firm}${path}`, init);

  const token = async (form: Record<string, string>): Promise<SimAnswer<TokenBody & { error?: string }>> =>
    read(await fetchFirm('/oauth/token', { method: 'POST', body: new URLSearchParams(form) }));

  const login = async (): Promise<TokenBody> => {
    const answer = await token({ grant_type: 'password', username: TINY_USERNAME, password: TINY_PASSWORD });
    if (answer.status !== 200) throw new Error(`login failed: ${answer.status}`);
    return answer.body;
  };

  const api = async <T>(
    method: string,
    path: string,
    body?: unknown,
    explicitToken?: string,
  ): Promise<SimAnswer<T>> => {
    const send = async (bearer: string): Promise<SimAnswer<T>> => {
      const headers: Record<string, string> = { authorization: `Bearer ${bearer}` };
      if (body !== undefined) headers['content-type'] = 'application/json';
      const response = await fetchFirm(`/api${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return read<T>(response);
    };
    if (explicitToken !== undefined) return send(explicitToken);
    cachedToken ??= (await login()).access_token;
    const answer = await send(cachedToken);
    // Tests move the clock by months; a cached token that expired on the way is simply renewed.
    if (answer.status !== 401) return answer;
    cachedToken = (await login()).access_token;
    return send(cachedToken);
  };

  const forgetToken = (): void => {
    cachedToken = undefined;
  };

  return { sim, clock, baseUrl, firm, fetchFirm, token, login, api, forgetToken, stop: () => sim.stop() };
}

/** Reads a response, parsing JSON when there is a body. */
export async function read<T>(response: Response): Promise<SimAnswer<T>> {
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: (text ? JSON.parse(text) : undefined) as T,
  };
}

/** A valid appointment write for the tiny firm. */
export function appointmentBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    patientId: 2,
    providerId: 1,
    locationId: 1,
    appointmentTypeId: 1,
    start: '2026-11-24T09:00',
    durationMinutes: 15,
    ...overrides,
  };
}

/** A valid patient write. */
export function patientBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    firstName: 'Ada',
    lastName: 'Lovelace',
    dob: '1980-12-10',
    gender: 'female',
    phone: '518-555-0199',
    email: 'ada@example.org',
    address: { line1: '12 Analytical St', city: 'Albany', state: 'NY', postalCode: '12207' },
    ...overrides,
  };
}
