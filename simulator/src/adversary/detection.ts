/**
 * Detection of a node cheating on 1 % of its requests within one epoch: computed from the oracle's
 * configuration, and measured with the oracle's own sampling function.
 *
 * Computed: each cheated answer is sampled with probability p (samplingRate) and, once sampled,
 * convicted unless every drawn checker is the attacker's and agrees and the referee does not audit:
 * q = 1 − s^c·(1 − a), with s the attacker's share of the verifiers, c checkersPerSample and a
 * refereeAuditRate. Over an epoch of R requests, P = 1 − (1 − p·q)^(R/100).
 *
 * Measured: `cheaters` nodes each serve R requests; each cheated one gets a random receipt hash, the
 * real `isSampled` decides with a fresh epoch seed, and each sampled one goes through the real draw
 * and refereed decision (checks.ts) against the run's final verifiers, sleepers included, until one
 * convicts (the rest of its epoch is not hashed).
 *
 * A guessing cheater (`guess`) answers honestly wherever it guesses a spot check: it runs the real
 * `isSampled` on each receipt it means to cheat on with the last published seed (all it can know; the
 * epoch's own is secret) and cheats only where that says "not sampled". The oracle samples with the
 * secret seed, so the guess is worth nothing: detection is the plain cheater's, less the few cheats it
 * gave up (the rate × its requests).
 */
import { isSampled } from '@hexedge/coverage-oracle';
import { bytesToBase64Url } from '@hexedge/protocol';
import type { Rng } from '../random.ts';
import { AdversaryMetrics } from './adversary-metrics.ts';
import { binomial, type AdversaryOracle } from './adversary-oracle.ts';
import { randomHex, runCheck } from './checks.ts';

export const CHEAT_RATE = 0.01;
export const DETECTION_GOAL = 0.999;
/** Receipts hashed at once (isSampled is async: crypto.subtle). */
const HASH_CHUNK = 16;

export interface DetectionResult {
  requestsPerEpoch: number;
  /** Cheaters answered honestly where the last published seed said "sampled". */
  guess: boolean;
  /** Cheats a guesser gave up (its guess said "sampled"). */
  guessedSampled: number;
  cheaters: number;
  detected: number;
  /** Cheated receipts hashed through isSampled up to each cheater's conviction (or its last), and how many it sampled. */
  cheatedReceipts: number;
  sampledReceipts: number;
  /** The attacker's share of verifiers (for q), q and the computed probability. */
  attackerVerifierShare: number;
  convictionGivenSampled: number;
  computed: number;
  /** Requests per epoch a node must serve for the goal to hold at this configuration. */
  requestsForGoal: number;
}

/** The attacker's share of verifiers holding `model` (its sleepers that still have standing). */
export function attackerVerifierShare(
  oracle: AdversaryOracle,
  model: string,
  isAttacker: (id: string) => boolean,
): number {
  const verifiers = oracle.verifiersFor(model);
  return verifiers.length ? verifiers.filter(isAttacker).length / verifiers.length : 0;
}

export function computedDetection(o: {
  samplingRate: number;
  checkersPerSample: number;
  refereeAuditRate: number;
  attackerShare: number;
  requestsPerEpoch: number;
}) {
  const q = 1 - o.attackerShare ** o.checkersPerSample * (1 - o.refereeAuditRate);
  const perRequest = CHEAT_RATE * o.samplingRate * q;
  const computed = 1 - (1 - o.samplingRate * q) ** (o.requestsPerEpoch * CHEAT_RATE);
  const requestsForGoal =
    perRequest > 0
      ? Math.log(1 - DETECTION_GOAL) / (CHEAT_RATE * Math.log(1 - o.samplingRate * q))
      : Infinity;
  return { q, computed, requestsForGoal };
}

export async function measureDetection(
  oracle: AdversaryOracle,
  o: {
    cheaters: number;
    requestsPerEpoch: number;
    rand: Rng;
    isAttacker: (id: string) => boolean;
    model?: string;
    guess?: boolean;
  },
): Promise<DetectionResult> {
  const { config } = oracle;
  const model = o.model ?? 'comfort-index';
  const newSeed = () => bytesToBase64Url(Uint8Array.from({ length: 32 }, () => Math.floor(o.rand() * 256)));
  const seed = newSeed();
  const publishedSeed = newSeed();
  const deps = {
    ...oracle.checkDeps(),
    rand: o.rand,
    metrics: new AdversaryMetrics(),
    grindBudget: { left: 0 },
  };
  let detected = 0;
  let cheatedReceipts = 0;
  let sampledReceipts = 0;
  let guessedSampled = 0;
  for (let i = 0; i < o.cheaters; i++) {
    const node = {
      id: `cheater-${i}`,
      url: `https://cheater-${i}.sim.hexedge.invalid`,
      sybil: true,
      grinder: false,
    };
    // Its cheats of the epoch, in the order it makes them, until one is sampled and convicted: what
    // follows a conviction does not change whether it was detected (so it is not hashed).
    let left = binomial(o.rand, o.requestsPerEpoch, CHEAT_RATE);
    let convicted = false;
    while (left > 0 && !convicted) {
      let hashes = Array.from({ length: Math.min(left, HASH_CHUNK) }, () => randomHex(o.rand));
      left -= hashes.length;
      if (o.guess) {
        const guessed = await Promise.all(
          hashes.map((receiptHash) =>
            isSampled({ receiptHash, seed: publishedSeed, rate: config.samplingRate }),
          ),
        );
        guessedSampled += guessed.filter(Boolean).length;
        hashes = hashes.filter((_, j) => !guessed[j]);
      }
      const flags = await Promise.all(
        hashes.map((receiptHash) => isSampled({ receiptHash, seed, rate: config.samplingRate })),
      );
      for (let j = 0; j < hashes.length && !convicted; j++) {
        cheatedReceipts++;
        if (!flags[j]) continue;
        sampledReceipts++;
        const { decision } = await runCheck(deps, { node, model, answer: 'wrong', seed, guessedSeed: seed });
        convicted = decision.node === 'fraud';
      }
    }
    if (convicted) detected++;
  }
  const attackerShare = attackerVerifierShare(oracle, model, o.isAttacker);
  const { q, computed, requestsForGoal } = computedDetection({
    samplingRate: config.samplingRate,
    checkersPerSample: config.checkersPerSample,
    refereeAuditRate: config.refereeAuditRate,
    attackerShare,
    requestsPerEpoch: o.requestsPerEpoch,
  });
  return {
    requestsPerEpoch: o.requestsPerEpoch,
    guess: o.guess ?? false,
    guessedSampled,
    cheaters: o.cheaters,
    detected,
    cheatedReceipts,
    sampledReceipts,
    attackerVerifierShare: attackerShare,
    convictionGivenSampled: q,
    computed,
    requestsForGoal,
  };
}
