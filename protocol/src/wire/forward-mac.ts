import { bytesToBase64Url, type Sha256Hex } from '../encoding.ts';
import type { NodeKeyPair } from '../identity.ts';
import { trimOldest } from '../oldest-first.ts';
import { signingInput } from '../signing.ts';
import { forwardBodyNow, forwardSigningInput, type ForwardBody } from './forward-body.ts';
import { nodeIdToX25519 } from './forward-mac-curve.ts';
import { forwardMacEngine, type ForwardMacEngine } from './forward-mac-engine.ts';
import { FORWARD_AT_HEADER, FORWARDER_HEADER, type ForwardTarget } from './forward-signature.ts';

/**
 * Forward MACs: a forwarder (gateway, oracle) authenticates a request to a node that accepts them with
 * an HMAC-SHA256 instead of an Ed25519 signature, over exactly the bytes the forward signature signs
 * (`signingInput('forward', body)`: forwarder, target node, route, model, version, body digest,
 * issuedAtMs). A forward signature is checked only by the node it is addressed to (nobody keeps it as
 * evidence), so a key that only the two ends know serves as well, for ~2 µs instead of ~45 µs to sign
 * and ~110 µs to verify.
 *
 * The key: static-static X25519 between the two existing Ed25519 identities (converted as libsodium
 * does: forward-mac-curve.ts, forward-mac-engine.ts), then HKDF-SHA256(shared secret, salt =
 * FORWARD_MAC_SALT, info = "hexedge forward mac v1\n" ‖ forwarderId ‖ "\n" ‖ targetNodeId): one key per
 * ordered pair, so a MAC for one node does not verify at another, nor in the other direction. Making
 * it needs one side's private key: a free identity (or a colluding set of them) can make keys only
 * for pairs it is a side of, and a node still serves only forwarders it knows.
 *
 * A node says it accepts MACs by answering with FORWARD_MAC_ACCEPTED_HEADER; a forwarder that has not
 * seen it (an older node) gets the forward signature, as before.
 */
export const FORWARD_MAC_HEADER = 'x-hexedge-forward-mac';
/** On a node's answers: "I accept forward MACs", with the version (`v1`). */
export const FORWARD_MAC_ACCEPTED_HEADER = 'x-hexedge-forward-mac-accepted';
export const FORWARD_MAC_VERSION = 'v1';
export const FORWARD_MAC_SALT = 'hexedge/v1/forward-mac';
/** An HMAC-SHA256 in base64url without padding. */
const MAC_PATTERN = /^[A-Za-z0-9_-]{43}$/;

const encoder = new TextEncoder();
const SALT_BYTES = encoder.encode(FORWARD_MAC_SALT);

export type ForwardMacKeyResult = { ok: true; key: unknown } | { ok: false; reason: string };
interface CachedKey {
  engine: ForwardMacEngine;
  result: ForwardMacKeyResult | Promise<ForwardMacKeyResult>;
}

/**
 * The MAC keys of one identity (`keys`) with its peers, derived once per peer and direction and kept
 * (bounded per direction: the oldest forgotten first, so a flood of made-up forwarder ids cannot grow
 * it). Kept by the peer's id in one map per direction, so a lookup hashes an id string the caller
 * already holds (its hash is kept in the string) rather than a pair key built for every request.
 */
export class ForwardMacKeys {
  readonly #keys: NodeKeyPair;
  readonly #max: number;
  /** Pairs this identity forwards on (this → peer), by the target's id. */
  readonly #asForwarder = new Map<string, CachedKey>();
  /** Pairs forwarded to this identity (peer → this), by the forwarder's id. */
  readonly #asTarget = new Map<string, CachedKey>();

  constructor(options: { keys: NodeKeyPair; maxPeers?: number }) {
    this.#keys = options.keys;
    this.#max = options.maxPeers ?? 4096;
  }

  get nodeId(): string {
    return this.#keys.nodeId;
  }

  /** The key of the pair (`forwarderId` → `targetNodeId`); this identity must be one of the two. */
  keyFor(pair: {
    forwarderId: string;
    targetNodeId: string;
  }): ForwardMacKeyResult | Promise<ForwardMacKeyResult> {
    const { forwarderId, targetNodeId } = pair;
    const own = this.#keys.nodeId;
    if (forwarderId !== own && targetNodeId !== own)
      throw new Error(`forward MAC keys of ${own} asked for the pair ${forwarderId} → ${targetNodeId}`);
    const engine = forwardMacEngine();
    // The pair is this identity and one peer in one direction (a pair of this identity with itself
    // is filed as forwarded by it, and refused by #derive either way).
    const [cache, peer] =
      forwarderId === own ? [this.#asForwarder, targetNodeId] : [this.#asTarget, forwarderId];
    const cached = cache.get(peer);
    if (cached && cached.engine === engine) return cached.result;
    // An engine that throws where it should refuse (a runtime's own limits) gives a refusal, not a rejection.
    const derived = this.#derive(engine, forwarderId, targetNodeId).catch(
      (err: unknown): ForwardMacKeyResult => ({
        ok: false,
        reason: `no forward MAC key with ${forwarderId === own ? targetNodeId : forwarderId}: ${(err as Error).message}`,
      }),
    );
    const entry: CachedKey = { engine, result: derived };
    cache.set(peer, entry);
    trimOldest(cache, this.#max);
    void Promise.resolve(entry.result).then((result) => (entry.result = result));
    return entry.result;
  }

  async #derive(
    engine: ForwardMacEngine,
    forwarderId: string,
    targetNodeId: string,
  ): Promise<ForwardMacKeyResult> {
    if (forwarderId === targetNodeId)
      return {
        ok: false,
        reason: `forwarder ${forwarderId} is this node itself: a node does not forward to itself`,
      };
    const peerId = forwarderId === this.#keys.nodeId ? targetNodeId : forwarderId;
    const peer = nodeIdToX25519(peerId);
    if (!peer.ok) return { ok: false, reason: `no forward MAC key with ${peerId}: ${peer.reason}` };
    let secret: Uint8Array;
    try {
      secret = await engine.agree(this.#keys.privateKey, peer.u);
    } catch (err) {
      return { ok: false, reason: `no forward MAC key with ${peerId}: ${(err as Error).message}` };
    }
    // Checked here too: an engine that returned X25519's all-zero result instead of refusing it.
    if (secret.every((b) => b === 0))
      return { ok: false, reason: `no forward MAC key with ${peerId}: the shared secret is all zero` };
    const info = encoder.encode(
      `hexedge forward mac ${FORWARD_MAC_VERSION}\n${forwarderId}\n${targetNodeId}`,
    );
    const raw = await engine.hkdf({ secret, salt: SALT_BYTES, info });
    return { ok: true, key: engine.macKey(raw) };
  }
}

/** HMAC-SHA256 of the forward body under `key`, base64url (a promise only from an asynchronous engine). */
function macOf(key: unknown, body: unknown): string | Promise<string> {
  return macOfInput(key, signingInput('forward', body));
}

/** HMAC-SHA256 of the bytes a forward body signs (`signingInput('forward', body)`), base64url. */
function macOfInput(key: unknown, input: Uint8Array): string | Promise<string> {
  const mac = forwardMacEngine().mac(key, input);
  return mac instanceof Uint8Array ? bytesToBase64Url(mac) : mac.then(bytesToBase64Url);
}

type MacForwardOptions = ForwardTarget & {
  macs: ForwardMacKeys;
  body: string | Uint8Array;
  nowMs: number;
  sha256?: Sha256Hex;
};

/**
 * The headers a forwarder adds to one request for a node that accepts forward MACs; undefined when the
 * pair has no key (the target's id is not a usable X25519 key): the caller signs instead.
 */
export async function macForward(options: MacForwardOptions): Promise<Record<string, string> | undefined> {
  return macForwardNow(options);
}

/**
 * `macForward` without a promise when none is needed (the pair's key derived before, node:crypto's
 * hash and HMAC): a forwarder pays no promise turns per request. The same headers over the same bytes.
 */
export function macForwardNow(
  options: MacForwardOptions,
): Record<string, string> | undefined | Promise<Record<string, string> | undefined> {
  const forwarderId = options.macs.nodeId;
  const found = options.macs.keyFor({ forwarderId, targetNodeId: options.targetNodeId });
  const withKey = (key: ForwardMacKeyResult) => {
    if (!key.ok) return undefined;
    const headers = (mac: string): Record<string, string> => ({
      [FORWARDER_HEADER]: forwarderId,
      [FORWARD_AT_HEADER]: String(options.nowMs),
      [FORWARD_MAC_HEADER]: mac,
    });
    const withBody = (body: ForwardBody) => {
      const mac = macOfInput(key.key, forwardSigningInput(body));
      return typeof mac === 'string' ? headers(mac) : mac.then(headers);
    };
    const body = forwardBodyNow({ ...options, forwarderId, issuedAtMs: options.nowMs });
    return body instanceof Promise ? body.then(withBody) : withBody(body);
  };
  return 'ok' in found ? withKey(found) : found.then(withKey);
}

/** Equal strings, in time that depends only on their lengths (a MAC compared byte by byte leaks its prefix). */
function equalInConstantTime(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < a.length && i < b.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/**
 * The node's check of a forward MAC over `body` (forward-body.ts; its `nodeId` is the forwarder): why
 * it fails, or undefined when it holds. The freshness and known-forwarder checks are the caller's
 * (`checkForward`), the same as for a signature.
 */
export async function forwardMacFault(options: {
  macs: ForwardMacKeys;
  body: { nodeId: string; targetNodeId: string };
  mac: string;
}): Promise<string | undefined> {
  const { macs, body, mac } = options;
  if (!MAC_PATTERN.test(mac))
    return `the forward MAC ${JSON.stringify(mac.slice(0, 64))} is not an HMAC-SHA256 in base64url (43 characters)`;
  const found = macs.keyFor({ forwarderId: body.nodeId, targetNodeId: body.targetNodeId });
  const key = 'ok' in found ? found : await found;
  if (!key.ok) return key.reason;
  if (!equalInConstantTime(await macOf(key.key, body), mac))
    return `the forward MAC does not verify for ${body.nodeId} (another node's request, or a changed body)`;
  return undefined;
}
