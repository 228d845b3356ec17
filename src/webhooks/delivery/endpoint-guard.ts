/**
 * The SSRF guard on subscriber URLs (DESIGN.md section 6; reliability.md section 2, rows 12–14 of its table),
 * applied when a subscription is registered AND before every delivery:
 * 1. WHATWG `URL` parse; https only, except for allowlisted targets; no userinfo; port 443 (or a configured
 *    port) unless allowlisted;
 * 2. an IP literal, in any spelling the URL parser accepts (`2130706433`, `0x7f.1`, `[::ffff:127.0.0.1]` …: the
 *    parser normalises them all), is classified with ipaddr.js `process()` (which unwraps IPv4-mapped IPv6);
 *    only `unicast` passes, unless the address is inside an allowlisted CIDR;
 * 3. a host name is resolved once with `lookup({all: true})`; if ANY address is not unicast (and not
 *    allowlisted) the URL is refused; otherwise the first checked address is returned to be PINNED for the
 *    connection (see `webhook-http.ts`), so a second lookup cannot rebind the name to an internal address.
 * An allowlisted host name is trusted whatever it resolves to (the demo allowlists `localhost` and loopback).
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/** Why a URL was refused. */
export type EndpointRefusal =
  'invalid-url' | 'scheme' | 'userinfo' | 'port' | 'address' | 'dns' | 'insecure-http';

/** A subscriber URL the guard refused; `message` says why without echoing anything secret. */
export class EndpointRefusedError extends Error {
  override readonly name = 'EndpointRefusedError';

  constructor(
    readonly reason: EndpointRefusal,
    message: string,
  ) {
    super(message);
  }
}

/** Resolves a host name to every address it has. */
export type HostLookup = (hostname: string) => Promise<Array<{ address: string; family: number }>>;

/** What the guard allows; build it with {@link createEndpointPolicy}. */
export interface EndpointPolicy {
  readonly hostnames: ReadonlySet<string>;
  /** `*.example.org` entries, stored as `.example.org`. */
  readonly hostnameSuffixes: readonly string[];
  readonly cidrs: ReadonlyArray<[ipaddr.IPv4 | ipaddr.IPv6, number]>;
  readonly allowedPorts: ReadonlySet<number>;
  readonly lookup: HostLookup;
}

/** The settings a policy is built from (the `webhooks` block of the configuration). */
export interface EndpointPolicySettings {
  /** Host names (`hooks.internal`, `*.corp.example`), IP addresses or CIDRs (`127.0.0.0/8`, `::1/128`). */
  allowlist: readonly string[];
  /** Ports allowed for targets that are not allowlisted; default [443]. */
  allowedPorts?: readonly number[];
}

/** A URL that passed the guard, with the address to connect to. */
export interface CheckedEndpoint {
  url: URL;
  /** Host name without IPv6 brackets: what TLS SNI and the Host header use. */
  hostname: string;
  /** The checked address to connect to (pinned). */
  address: string;
  family: 4 | 6;
  port: number;
  /** True when an allowlist entry admitted the target. */
  allowlisted: boolean;
}

const defaultLookup: HostLookup = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

/**
 * Builds a policy. `lookup` replaces DNS (tests inject one).
 * @throws RangeError for an allowlist entry that is neither a host name, an address nor a CIDR
 */
export function createEndpointPolicy(
  settings: EndpointPolicySettings,
  options: { lookup?: HostLookup } = {},
): EndpointPolicy {
  const hostnames = new Set<string>();
  const hostnameSuffixes: string[] = [];
  const cidrs: Array<[ipaddr.IPv4 | ipaddr.IPv6, number]> = [];
  for (const entry of settings.allowlist) {
    const parsed = parseAllowlistEntry(entry);
    if (parsed.kind === 'cidr') cidrs.push(parsed.cidr);
    else if (parsed.kind === 'suffix') hostnameSuffixes.push(parsed.suffix);
    else hostnames.add(parsed.hostname);
  }
  return {
    hostnames,
    hostnameSuffixes,
    cidrs,
    allowedPorts: new Set(settings.allowedPorts ?? [443]),
    lookup: options.lookup ?? defaultLookup,
  };
}

type AllowlistEntry =
  | { kind: 'cidr'; cidr: [ipaddr.IPv4 | ipaddr.IPv6, number] }
  | { kind: 'hostname'; hostname: string }
  | { kind: 'suffix'; suffix: string };

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/**
 * Classifies one allowlist entry.
 * @throws RangeError when it is none of host name, `*.suffix`, IP address or CIDR
 */
export function parseAllowlistEntry(entry: string): AllowlistEntry {
  const text = entry.trim().toLowerCase();
  if (text.includes('/')) {
    try {
      const [address, bits] = ipaddr.parseCIDR(text);
      return { kind: 'cidr', cidr: [unwrap(address), unwrapBits(address, bits)] };
    } catch {
      throw new RangeError(`not a CIDR: ${entry}`);
    }
  }
  if (ipaddr.isValid(text) && isIP(text) !== 0) {
    const address = unwrap(ipaddr.parse(text));
    return { kind: 'cidr', cidr: [address, address.kind() === 'ipv4' ? 32 : 128] };
  }
  if (text.startsWith('*.') && HOSTNAME.test(text.slice(2))) return { kind: 'suffix', suffix: text.slice(1) };
  if (HOSTNAME.test(text)) return { kind: 'hostname', hostname: text };
  throw new RangeError(`not a host name, address or CIDR: ${entry}`);
}

/**
 * Checks `rawUrl` against `policy` and resolves it; returns the address to pin.
 * @throws EndpointRefusedError
 * @see reliability.md section 2
 */
export async function checkEndpoint(rawUrl: string, policy: EndpointPolicy): Promise<CheckedEndpoint> {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    throw new EndpointRefusedError('invalid-url', 'the endpoint is not a valid absolute URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new EndpointRefusedError('scheme', `the endpoint scheme must be https (got ${url.protocol})`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new EndpointRefusedError('userinfo', 'the endpoint must not carry a user name or password');
  }
  const hostname = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  const hostAllowlisted = hostnameAllowlisted(policy, hostname);

  let addresses: Array<{ address: ipaddr.IPv4 | ipaddr.IPv6; text: string }>;
  if (isIP(hostname) !== 0) {
    addresses = [{ address: ipaddr.process(hostname), text: hostname }];
  } else {
    let resolved: Array<{ address: string; family: number }>;
    try {
      resolved = await policy.lookup(hostname);
    } catch {
      throw new EndpointRefusedError('dns', `the endpoint host ${hostname} does not resolve`);
    }
    if (resolved.length === 0) {
      throw new EndpointRefusedError('dns', `the endpoint host ${hostname} does not resolve`);
    }
    addresses = resolved.map((r) => {
      if (!ipaddr.isValid(r.address)) {
        throw new EndpointRefusedError('dns', `the endpoint host ${hostname} resolved to an invalid address`);
      }
      return { address: ipaddr.process(r.address), text: r.address };
    });
  }

  let allAllowlisted = true;
  for (const { address } of addresses) {
    const inCidr = policy.cidrs.some(
      ([range, bits]) => sameKind(address, range) && address.match(range, bits),
    );
    if (!inCidr) allAllowlisted = false;
    if (!hostAllowlisted && !inCidr && address.range() !== 'unicast') {
      // Name the class, not the address: the message may reach the subscriber.
      throw new EndpointRefusedError(
        'address',
        `the endpoint resolves to a ${address.range()} address, which webhooks may not reach`,
      );
    }
  }
  const allowlisted = hostAllowlisted || allAllowlisted;
  if (url.protocol === 'http:' && !allowlisted) {
    throw new EndpointRefusedError('insecure-http', 'the endpoint must use https');
  }
  if (!allowlisted && !policy.allowedPorts.has(port)) {
    throw new EndpointRefusedError('port', `the endpoint port ${port} is not allowed`);
  }
  const pinned = addresses[0] as { address: ipaddr.IPv4 | ipaddr.IPv6; text: string };
  return {
    url,
    hostname,
    // Connect to the checked, unwrapped address (an IPv4-mapped literal becomes plain IPv4).
    address: pinned.address.toString(),
    family: pinned.address.kind() === 'ipv4' ? 4 : 6,
    port,
    allowlisted,
  };
}

function hostnameAllowlisted(policy: EndpointPolicy, hostname: string): boolean {
  const name = hostname.replace(/\.$/, '');
  return policy.hostnames.has(name) || policy.hostnameSuffixes.some((suffix) => name.endsWith(suffix));
}

function sameKind(a: ipaddr.IPv4 | ipaddr.IPv6, b: ipaddr.IPv4 | ipaddr.IPv6): boolean {
  return a.kind() === b.kind();
}

function unwrap(address: ipaddr.IPv4 | ipaddr.IPv6): ipaddr.IPv4 | ipaddr.IPv6 {
  return address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()
    ? (address as ipaddr.IPv6).toIPv4Address()
    : address;
}

function unwrapBits(address: ipaddr.IPv4 | ipaddr.IPv6, bits: number): number {
  return address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()
    ? Math.max(0, bits - 96)
    : bits;
}
