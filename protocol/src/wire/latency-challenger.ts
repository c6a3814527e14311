import type { LatLng } from '../geo.ts';
import type { NodeKeyPair } from '../identity.ts';
import { signBody, type Signed } from '../signing.ts';
import {
  CHALLENGE_PATH,
  createChallenge,
  isValidChallengeResponse,
  randomNonce,
  type ChallengeResponseBody,
} from './latency-challenge.ts';

/**
 * The challenger's role in latency proofs of location, played by nodes (asked by the oracle's probe)
 * and by the oracle itself: time a target's signed answer to a fresh challenge and turn the outcome
 * into the signed `location` report the oracle ingests.
 */

/** One challenger's timed, signed exchange with the node. */
export interface LatencyObservation {
  challengerId: string;
  challengerLocation: LatLng;
  rttMs: number;
}

/** The part of `fetch` the challenger needs; inject the real one, or an in-process one in tests. */
export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body: string; signal?: AbortSignal },
) => Promise<{
  ok: boolean;
  status: number;
  json(): Promise<unknown>;
}>;

export type ChallengeOutcome =
  | {
      ok: true;
      observation: LatencyObservation;
      targetNodeId: string;
      nonce: string;
      response: Signed<ChallengeResponseBody>;
    }
  | {
      ok: false;
      reason: 'NO_ANSWER' | 'BAD_RESPONSE' | 'TIMEOUT';
      targetNodeId: string;
      challengerId: string;
      detail?: string;
    };

/**
 * Signed exchanges per challenge; the fastest answered one is reported. The bound assumes that the
 * timed exchange is one round trip, but an exchange that finds no open connection also pays for the
 * TCP handshake (one more round trip; TLS adds one or two): with challenges a minute apart and
 * keep-alive closing idle connections after seconds, a single timed exchange always counts at least
 * twice the distance. The first exchange opens the connection, the next ones reuse it, and the
 * fastest also sheds queueing and scheduling delays, which only ever add (the minimum-RTT rule of
 * delay-based geolocation). Each exchange is a complete signed challenge, so whichever is reported
 * is a proof on its own.
 */
export const DEFAULT_EXCHANGES_PER_CHALLENGE = 3;

/**
 * A challenger at a known place. It signs fresh challenges, times the node's signed answers with its
 * own monotonic clock, and reports the fastest round trip; a wrong, unsigned or late answer is an
 * outcome, not an exception (it counts against the node's availability).
 */
export class LatencyChallenger {
  readonly #keys: NodeKeyPair;
  readonly #location: LatLng;
  readonly #fetch: FetchLike;
  readonly #clockMs: () => number;
  readonly #nowMs: () => number;
  readonly #timeoutMs: number;
  readonly #exchanges: number;

  constructor(options: {
    keys: NodeKeyPair;
    location: LatLng;
    fetch: FetchLike;
    clockMs?: () => number;
    nowMs?: () => number;
    timeoutMs?: number;
    exchanges?: number;
  }) {
    this.#keys = options.keys;
    this.#location = options.location;
    this.#fetch = options.fetch;
    this.#clockMs = options.clockMs ?? (() => performance.now());
    this.#nowMs = options.nowMs ?? Date.now;
    this.#timeoutMs = options.timeoutMs ?? 2000;
    this.#exchanges = Math.max(1, Math.floor(options.exchanges ?? DEFAULT_EXCHANGES_PER_CHALLENGE));
  }

  get nodeId(): string {
    return this.#keys.nodeId;
  }

  /**
   * Up to `exchanges` exchanges, all within `timeoutMs` together. The first failure ends the
   * challenge: it is the outcome when nothing was answered yet, else the fastest answer is.
   */
  async challenge(target: { nodeId: string; url: string }): Promise<ChallengeOutcome> {
    const deadlineMs = this.#clockMs() + this.#timeoutMs;
    let fastest: Extract<ChallengeOutcome, { ok: true }> | undefined;
    for (let i = 0; i < this.#exchanges; i++) {
      // One macrotask between exchanges: fetch (undici) hands the connection back to its pool only
      // after the answer's body has ended and the current task is done, so an exchange sent straight
      // away found the first connection still busy and opened a second one, paying the handshake's
      // round trip again (cold start: 2, 2 and 1 round trips instead of 2, 1 and 1).
      if (i > 0) await new Promise((resolve) => setTimeout(resolve, 0));
      const leftMs = deadlineMs - this.#clockMs();
      if (leftMs <= 0) break;
      const outcome = await this.#exchange(target, leftMs);
      if (!outcome.ok) return fastest ?? outcome;
      if (!fastest || outcome.observation.rttMs < fastest.observation.rttMs) fastest = outcome;
    }
    return (
      fastest ?? { ok: false, reason: 'TIMEOUT', targetNodeId: target.nodeId, challengerId: this.nodeId }
    );
  }

  async #exchange(target: { nodeId: string; url: string }, timeoutMs: number): Promise<ChallengeOutcome> {
    const signed = await createChallenge({
      challenger: this.#keys,
      targetNodeId: target.nodeId,
      nowMs: this.#nowMs(),
    });
    const failed = (reason: 'NO_ANSWER' | 'BAD_RESPONSE' | 'TIMEOUT', detail?: string): ChallengeOutcome => ({
      ok: false,
      reason,
      targetNodeId: target.nodeId,
      challengerId: this.nodeId,
      ...(detail ? { detail } : {}),
    });
    const body = JSON.stringify(signed);
    let answer: unknown;
    // The body is signed before the clock starts, so only the node's work and the wire are timed.
    const startMs = this.#clockMs();
    let rttMs: number;
    try {
      const response = await this.#fetch(new URL(CHALLENGE_PATH, target.url).href, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(Math.max(1, Math.ceil(timeoutMs))),
      });
      rttMs = this.#clockMs() - startMs;
      if (!response.ok) return failed('NO_ANSWER', `HTTP ${response.status}`);
      answer = await response.json();
    } catch (err) {
      const name = (err as { name?: string })?.name;
      return failed(
        name === 'TimeoutError' || name === 'AbortError' ? 'TIMEOUT' : 'NO_ANSWER',
        String((err as Error)?.message ?? err),
      );
    }
    if (!(await isValidChallengeResponse(answer, signed.body))) return failed('BAD_RESPONSE');
    return {
      ok: true,
      targetNodeId: target.nodeId,
      nonce: signed.body.nonce,
      response: answer as Signed<ChallengeResponseBody>,
      observation: { challengerId: this.nodeId, challengerLocation: this.#location, rttMs },
    };
  }
}

/**
 * Turns a challenge outcome into the signed `location` report the challenger sends to the oracle's
 * ingest, so in-process and remote challengers take the same path into the verify stage.
 */
export async function locationReportFor(options: {
  outcome: ChallengeOutcome;
  challenger: NodeKeyPair;
  nowMs: number;
}) {
  const { outcome, challenger, nowMs } = options;
  const body = {
    type: 'location' as const,
    nodeId: challenger.nodeId,
    nonce: randomNonce(),
    issuedAtMs: nowMs,
    targetNodeId: outcome.targetNodeId,
    answered: outcome.ok,
    ...(outcome.ok ? { rttMs: outcome.observation.rttMs, response: outcome.response } : {}),
  };
  return signBody('report', body, challenger.privateKey);
}
