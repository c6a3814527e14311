/**
 * Who is on the other end of a connection, for rate limits: an address is not a user. Every home and
 * cloud host gets an IPv6 /64 (2^64 addresses) for free, so per-address buckets bind nothing for IPv6;
 * the /64 is what one host or one subscriber holds. One ISP customer or hosting account often holds a
 * /48 (65 536 /64s), which the looser `prefix48` bucket covers. An IPv4-mapped IPv6 address
 * (`::ffff:1.2.3.4`, what a dual-stack socket reports for an IPv4 peer) is that IPv4 address.
 */
export interface ClientSource {
  /** The IPv4 address (`203.0.113.9`), the IPv6 /64 (`2001:db8:a:1::/64`), or `unknown` / `unparsed`. */
  key: string;
  /** For IPv6 only: the /48 the /64 sits in (`2001:db8:a::/48`). */
  prefix48?: string;
}

/** Longest text taken as an address (a full IPv6 with an IPv4 tail and a zone id fits); longer is `unparsed`. */
const MAX_ADDRESS_CHARS = 100;
const HEXTET = /^[0-9a-f]{1,4}$/;
const OCTET = /^(0|[1-9][0-9]{0,2})$/;

/** All addresses the adapter could not name share one bucket, so made-up strings buy no fresh one. */
export const UNKNOWN_SOURCE: ClientSource = { key: 'unknown' };
export const UNPARSED_SOURCE: ClientSource = { key: 'unparsed' };

/** The rate-limit source of a client address (see ClientSource); never throws. */
export function clientSourceOf(address: string | undefined): ClientSource {
  if (address === undefined || address === '') return UNKNOWN_SOURCE;
  if (address.length > MAX_ADDRESS_CHARS) return UNPARSED_SOURCE;
  let text = address.trim().toLowerCase();
  if (text.startsWith('[') && text.endsWith(']')) text = text.slice(1, -1);
  // A zone id (fe80::1%eth0) names the local interface, not the peer: the same peer on any interface.
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  if (!text.includes(':')) {
    const v4 = parseIpv4(text);
    return v4 ? { key: v4.join('.') } : UNPARSED_SOURCE;
  }
  const hextets = parseIpv6(text);
  if (!hextets) return UNPARSED_SOURCE;
  if (isIpv4Mapped(hextets)) {
    const [high, low] = [hextets[6]!, hextets[7]!];
    return { key: [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.') };
  }
  return {
    key: `${formatIpv6([...hextets.slice(0, 4), 0, 0, 0, 0])}/64`,
    prefix48: `${formatIpv6([...hextets.slice(0, 3), 0, 0, 0, 0, 0])}/48`,
  };
}

/** `::ffff:0:0/96`: 80 zero bits, then 16 one bits. */
function isIpv4Mapped(hextets: number[]): boolean {
  return hextets.slice(0, 5).every((h) => h === 0) && hextets[5] === 0xffff;
}

function parseIpv4(text: string): number[] | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => OCTET.test(p))) return undefined;
  const octets = parts.map(Number);
  return octets.every((o) => o <= 255) ? octets : undefined;
}

/** The eight 16-bit groups of an IPv6 address (`::` expanded, an IPv4 tail folded in), or undefined. */
function parseIpv6(text: string): number[] | undefined {
  let body = text;
  const lastColon = body.lastIndexOf(':');
  const last = body.slice(lastColon + 1);
  if (last.includes('.')) {
    const v4 = parseIpv4(last);
    if (!v4) return undefined;
    body = `${body.slice(0, lastColon + 1)}${((v4[0]! << 8) | v4[1]!).toString(16)}:${((v4[2]! << 8) | v4[3]!).toString(16)}`;
  }
  const halves = body.split('::');
  if (halves.length > 2) return undefined;
  const groups = (half: string) => (half === '' ? [] : half.split(':'));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (![...head, ...tail].every((g) => HEXTET.test(g))) return undefined;
  const given = head.length + tail.length;
  // Without `::` all eight groups are written; with it, it stands for at least one zero group.
  if (halves.length === 1 ? given !== 8 : given > 7) return undefined;
  const zeros = new Array<string>(8 - given).fill('0');
  return [...head, ...zeros, ...tail].map((g) => parseInt(g, 16));
}

/** RFC 5952 text: lowercase, no leading zeros, the longest run (≥ 2) of zero groups as `::`. */
function formatIpv6(hextets: number[]): string {
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (hextets[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && hextets[j] === 0) j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j;
  }
  const hex = (from: number, to: number) =>
    hextets
      .slice(from, to)
      .map((h) => h.toString(16))
      .join(':');
  if (bestStart < 0) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLength, 8)}`;
}
