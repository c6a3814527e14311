import { HexEdgeError } from '@hexedge/protocol';

/**
 * Where the gateway may send requests on a node's behalf. A node chooses its URL, and the gateway POSTs
 * callers' data to it: a URL naming a loopback, private, link-local, unique-local or metadata address
 * would turn the gateway into a proxy into its own network (SSRF). Such addresses are refused at
 * registration and again at connect time, after DNS resolution (a name may resolve elsewhere later),
 * unless the deployment runs its nodes on a private network on purpose (`allowPrivateNodeAddresses`:
 * `hexedge dev`, tests).
 */
export interface NodeUrlPolicy {
  allowPrivate: boolean;
  /** The addresses a host name resolves to (Node: dns.lookup, all); absent, only literal addresses and known names are checked. */
  resolve?: (hostname: string) => Promise<string[]>;
}

/** Host names that always mean "this machine" or a cloud metadata service, whatever DNS says. */
const FORBIDDEN_NAMES = [
  /^localhost$/i,
  /\.localhost$/i,
  /^metadata\.google\.internal$/i,
  /^metadata$/i,
  /\.internal$/i,
  /\.local$/i,
];

/** IPv4 ranges no node may be reached at (RFC 6890 special-purpose, plus 100.64/10 shared address space). */
const FORBIDDEN_V4: ReadonlyArray<[string, number]> = [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, incl. 169.254.169.254 (cloud metadata)
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, incl. broadcast
];

function v4ToInt(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    n = n * 256 + Number(p);
  }
  return n;
}

function isForbiddenV4(ip: string): boolean {
  const n = v4ToInt(ip);
  if (n === undefined) return true; // not an address we understand: refuse
  return FORBIDDEN_V4.some(([base, bits]) => {
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    return (n & mask) >>> 0 === (v4ToInt(base)! & mask) >>> 0;
  });
}

/** An IPv6 address as 8 16-bit groups (accepts `::` and a trailing dotted IPv4). */
function v6Groups(ip: string): number[] | undefined {
  let text = ip.toLowerCase();
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (tail) {
    const n = v4ToInt(tail[1]!);
    if (n === undefined) return undefined;
    text = `${text.slice(0, -tail[1]!.length)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parse = (s: string) =>
    s === '' ? [] : s.split(':').map((g) => (/^[0-9a-f]{1,4}$/.test(g) ? parseInt(g, 16) : NaN));
  const head = parse(halves[0]!);
  const rest = halves.length === 2 ? parse(halves[1]!) : [];
  const groups =
    halves.length === 2
      ? [...head, ...new Array<number>(8 - head.length - rest.length).fill(0), ...rest]
      : head;
  return groups.length === 8 && groups.every((g) => Number.isInteger(g)) ? groups : undefined;
}

function isForbiddenV6(ip: string): boolean {
  const g = v6Groups(ip);
  if (!g) return true;
  if (g.every((x) => x === 0)) return true; // ::
  if (g.slice(0, 7).every((x) => x === 0) && g[7] === 1) return true; // ::1
  const embeddedV4 = () => `${g[6]! >> 8}.${g[6]! & 0xff}.${g[7]! >> 8}.${g[7]! & 0xff}`;
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) return isForbiddenV4(embeddedV4()); // ::ffff:a.b.c.d
  if (g.slice(0, 6).every((x) => x === 0)) return true; // deprecated IPv4-compatible ::a.b.c.d
  if (g[0] === 0x64 && g[1] === 0xff9b) return isForbiddenV4(embeddedV4()); // NAT64
  if ((g[0]! & 0xffc0) === 0xfe80) return true; // link-local
  if ((g[0]! & 0xfe00) === 0xfc00) return true; // unique-local (incl. AWS's fd00:ec2::254 metadata)
  if ((g[0]! & 0xff00) === 0xff00) return true; // multicast
  if (g[0] === 0x2001 && g[1] === 0xdb8) return true; // documentation
  return false;
}

/** Whether an IP address (v4 or v6, no brackets) is one a node may not be reached at. */
export function isForbiddenNodeAddress(ip: string): boolean {
  return ip.includes(':') ? isForbiddenV6(ip) : isForbiddenV4(ip);
}

const isIpLiteral = (host: string) => /^\d+\.\d+\.\d+\.\d+$/.test(host) || host.includes(':');

/**
 * Checks a node URL (at registration; the connection is checked again when made). Refuses with
 * FORBIDDEN naming the address; only http(s) without credentials is accepted.
 */
export async function checkNodeUrl(raw: string, policy: NodeUrlPolicy): Promise<void> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new HexEdgeError('INVALID_REQUEST', `node url ${JSON.stringify(raw.slice(0, 200))} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new HexEdgeError(
      'INVALID_REQUEST',
      `node url must be http or https, got ${JSON.stringify(url.protocol)}`,
    );
  }
  if (url.username || url.password)
    throw new HexEdgeError('INVALID_REQUEST', 'node url must not carry credentials');
  if (policy.allowPrivate) return;
  // The WHATWG parser has already normalised 2130706433, 0x7f.1 and friends to dotted quads.
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const refuse = (address: string) =>
    new HexEdgeError(
      'FORBIDDEN',
      `node url ${JSON.stringify(url.origin)} points at ${address}, a loopback, private, link-local or metadata address; nodes must be reachable at public addresses (allowPrivateNodeAddresses is off)`,
    );
  if (isIpLiteral(host)) {
    if (isForbiddenNodeAddress(host)) throw refuse(host);
    return;
  }
  if (FORBIDDEN_NAMES.some((re) => re.test(host))) throw refuse(host);
  if (!policy.resolve) return;
  let addresses: string[];
  try {
    addresses = await policy.resolve(host);
  } catch {
    throw new HexEdgeError('INVALID_REQUEST', `node url host ${JSON.stringify(host)} does not resolve`);
  }
  const bad = addresses.find((a) => isForbiddenNodeAddress(a));
  if (bad !== undefined) throw refuse(`${host} (${bad})`);
}
