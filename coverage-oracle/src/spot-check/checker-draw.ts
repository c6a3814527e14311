import { base64UrlToBytes, sha256 } from '@hexedge/protocol';

/** A node that may check others, as the draw sees it. */
export interface CheckerCandidate {
  nodeId: string;
  url?: string;
  /** The stake account that bonded it; nodes of one operator are never drawn together. */
  operatorId: string;
  /** Bonded stake: the draw's weight. */
  stakeBaseUnits: bigint;
}

/**
 * The network a host is in: an IPv4 address's /24, an IPv6 address's /48 (what one operator, one
 * cloud subnet or one home line typically holds), a host name as itself. Two checkers in one prefix
 * are not independent witnesses, whatever keys they hold.
 */
export function networkPrefixOf(url: string | undefined): string {
  if (!url) return '';
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase();
  } catch {
    return url;
  }
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.\d{1,3}$/.exec(host);
  if (v4) return `${v4[1]}.${v4[2]}.${v4[3]}.0/24`;
  if (host.startsWith('[') && host.endsWith(']'))
    return `${expandIpv6(host.slice(1, -1)).slice(0, 3).join(':')}::/48`;
  return host;
}

function expandIpv6(address: string): string[] {
  const [head = '', tail] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...fill, ...right].map((h) => h.replace(/^0+(?=.)/, ''));
}

const encoder = new TextEncoder();
/** 53 bits of a digest as a uniform number in (0, 1): never 0, so its logarithm is finite. */
async function uniform(seed: Uint8Array, label: string): Promise<number> {
  const text = encoder.encode(label);
  const input = new Uint8Array(seed.length + text.length);
  input.set(seed, 0);
  input.set(text, seed.length);
  const d = await sha256(input);
  let x = 0;
  for (let i = 0; i < 7; i++) x = x * 256 + d[i]!;
  return (Math.floor(x / 8) + 1) / (2 ** 53 + 1);
}

/**
 * Draws `count` checkers for one receipt: weighted by stake (Efraimidis–Spirakis: the smallest
 * −ln(u)/w win, u from SHA-256(epoch seed ‖ "checkers" ‖ receipt hash ‖ node id)), skipping any that
 * shares an operator or a network prefix with the checked node or with a checker already drawn. The
 * seed is the oracle's epoch secret (committed before the epoch, published after), so nothing the
 * node controls in its receipt (service time, issue time) tells it who will check it, and anyone can
 * recompute the draw once the seed is out.
 */
export async function drawCheckers(options: {
  seed: string;
  receiptHash: string;
  candidates: readonly CheckerCandidate[];
  checked: { nodeId: string; operatorId: string; url?: string };
  count: number;
}): Promise<CheckerCandidate[]> {
  const seed = base64UrlToBytes(options.seed);
  const { checked } = options;
  const keyed = await Promise.all(
    options.candidates
      .filter((c) => c.nodeId !== checked.nodeId && c.stakeBaseUnits > 0n)
      .map(async (c) => ({
        c,
        key:
          -Math.log(await uniform(seed, `checkers\n${options.receiptHash}\n${c.nodeId}`)) /
          Number(c.stakeBaseUnits),
      })),
  );
  keyed.sort((a, b) => a.key - b.key || (a.c.nodeId < b.c.nodeId ? -1 : 1));
  const operators = new Set([checked.operatorId]);
  const prefixes = new Set([networkPrefixOf(checked.url)]);
  const drawn: CheckerCandidate[] = [];
  for (const { c } of keyed) {
    if (drawn.length >= options.count) break;
    const prefix = networkPrefixOf(c.url);
    if (operators.has(c.operatorId) || (prefix && prefixes.has(prefix))) continue;
    operators.add(c.operatorId);
    prefixes.add(prefix);
    drawn.push(c);
  }
  return drawn;
}
