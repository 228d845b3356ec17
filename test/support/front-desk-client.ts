/**
 * The front desk acting in a simulated records system (proprietary or FHIR) in tests: a password-grant token per
 * firm with the tiny firm's credentials, fetched once and fetched again after a 401.
 */
import { TINY_PASSWORD, TINY_USERNAME } from './tiny-firm.js';

export interface FrontDeskClientOptions {
  /** The firm's OAuth token endpoint. */
  tokenUrl(firm: string): string;
  /** The URL of `path` in the firm's API. */
  url(firm: string, path: string): string;
  /** The media type of request bodies. */
  contentType: string;
}

/** One call of the front desk: the status and the parsed JSON body (undefined when empty). */
export type FrontDeskCall = <T = unknown>(
  firm: string,
  method: string,
  path: string,
  body?: unknown,
) => Promise<{ status: number; body: T }>;

export function frontDeskClient(options: FrontDeskClientOptions): FrontDeskCall {
  const tokens = new Map<string, string>();
  async function token(firm: string): Promise<string> {
    const cached = tokens.get(firm);
    if (cached) return cached;
    const response = await fetch(options.tokenUrl(firm), {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'password', username: TINY_USERNAME, password: TINY_PASSWORD }),
    });
    const value = ((await response.json()) as { access_token: string }).access_token;
    tokens.set(firm, value);
    return value;
  }
  return async <T>(firm: string, method: string, path: string, body?: unknown) => {
    for (let attempt = 0; ; attempt++) {
      const response = await fetch(options.url(firm, path), {
        method,
        headers: { authorization: `Bearer ${await token(firm)}`, 'content-type': options.contentType },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (response.status === 401 && attempt === 0) {
        tokens.delete(firm);
        continue;
      }
      const text = await response.text();
      return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
    }
  };
}
