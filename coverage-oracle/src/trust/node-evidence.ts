import type { Verdict } from '../store/records.ts';

/**
 * A node's evidence: everything `computeTrust` and `standingOf` read from its verdicts, folded once per
 * saved verdict, so scoring costs O(nodes) per tick whatever the history. Pure and plain JSON: the
 * stores keep it beside the verdicts (same transaction), and `foldVerdicts` recomputes it from the log.
 */

/** Evidence loses half its weight a week after it was gathered, so a node can earn back, or lose, its standing. */
export const TRUST_HALF_LIFE_MS = 7 * 24 * 3600_000;
/** A confirmed fraud caps trust and the cap fades over a month (half-life): cheating once is remembered. */
export const FRAUD_HALF_LIFE_MS = 30 * 24 * 3600_000;
/** A fraud outweighs this many passed spot checks. */
export const FRAUD_EVIDENCE_WEIGHT = 10;
/** Bumped when the shape or meaning changes: a store holding another format refolds its verdicts. */
export const EVIDENCE_FORMAT = 1;

// Bounded lists (a node flooding verdicts grows counts, not memory). Each holds the first (by its order)
// that many of all such verdicts; a removal that empties one while others exist refolds the node.
/** Newest conclusive location verdicts (the newest is judged; the others stand in when it is re-judged). */
export const KEPT_LOCATIONS = 4;
/** Earliest own passes (seasoning reads the first). */
export const KEPT_FIRST_PASSES = 8;
/** Newest misconduct verdicts (standing counts those in the last 30 days; beyond this many it says "N+"). */
export const KEPT_MISCONDUCT = 64;
/** Decayed sums are rebased to a newer reference before their terms grow past 2^32 (no overflow). */
const REBASE_HALF_LIVES = 32;

/** A spot-check verdict about the node's own answer, not about a check it made of someone else's. */
export const isOwnCheck = (v: Verdict) => v.kind === 'spot-check' && v.details?.role !== 'checker';

/** 0/1 outcomes: counts, and their weights decayed to the evidence's `refMs` (Σ w·2^((atMs − refMs)/halfLife)). */
export interface DecayedTally {
  count: number;
  positives: number;
  weight: number;
  positiveWeight: number;
}

export interface TimedId {
  id: string;
  atMs: number;
}

/** What a conclusive location verdict says, as trust and standing read it. */
export interface LocationSummary extends TimedId {
  status: Verdict['status'];
  reason?: string;
  /** The claim it judged. */
  claim?: { lat: number; lng: number; claimedAtMs?: number };
  /** The proof's trust (0 for an impossible claim). */
  proofTrust: number;
}

export interface NodeEvidence {
  format: number;
  nodeId: string;
  /** Half-life of the poc, spot-check and uptime sums. */
  halfLifeMs: number;
  /** Reference time of every decayed sum (null before the first verdict). */
  refMs: number | null;
  verdicts: number;
  /** PoC as beaconer or witness (not a witness voided by its beaconer's fault). */
  poc: DecayedTally;
  /** Conclusive spot checks (positives: passes; a fraud weighs FRAUD_EVIDENCE_WEIGHT). */
  checks: DecayedTally & { frauds: number };
  /** Conclusive availability probes (positives: up). */
  uptime: DecayedTally;
  /** Σ 2^((atMs − refMs)/FRAUD_HALF_LIFE_MS) over fraud spot checks. */
  fraudMemory: number;
  /** Conclusive spot checks of its own answers; of those, passes and frauds. */
  ownChecks: number;
  ownPasses: number;
  ownFrauds: number;
  /** Earliest own passes, oldest first. */
  firstPasses: TimedId[];
  /** Conclusive location verdicts, and the newest (atMs, then id) first. */
  locations: number;
  latestLocations: LocationSummary[];
  /** Fraud, or a challenger report the majority contradicted; the newest first. */
  misconduct: number;
  latestMisconduct: TimedId[];
}

const tally = (): DecayedTally => ({ count: 0, positives: 0, weight: 0, positiveWeight: 0 });

export function emptyEvidence(nodeId: string, halfLifeMs = TRUST_HALF_LIFE_MS): NodeEvidence {
  return {
    format: EVIDENCE_FORMAT,
    nodeId,
    halfLifeMs,
    refMs: null,
    verdicts: 0,
    poc: tally(),
    checks: { ...tally(), frauds: 0 },
    uptime: tally(),
    fraudMemory: 0,
    ownChecks: 0,
    ownPasses: 0,
    ownFrauds: 0,
    firstPasses: [],
    locations: 0,
    latestLocations: [],
    misconduct: 0,
    latestMisconduct: [],
  };
}

/** The evidence of `verdicts` (one node's), folded from scratch: the definition the running fold must match. */
export function foldVerdicts(
  verdicts: Iterable<Verdict>,
  options: { nodeId?: string; halfLifeMs?: number } = {},
): NodeEvidence {
  let evidence: NodeEvidence | undefined;
  for (const v of verdicts) {
    evidence ??= emptyEvidence(options.nodeId ?? v.nodeId, options.halfLifeMs);
    addVerdict(evidence, v);
  }
  return evidence ?? emptyEvidence(options.nodeId ?? '', options.halfLifeMs);
}

/** False only for evidence whose lists a removal already broke (stale: refold it). */
export function addVerdict(evidence: NodeEvidence, verdict: Verdict): boolean {
  return apply(evidence, verdict, 1);
}

/**
 * Takes back what `verdict` (exactly as it was added) contributed. False when that cannot be done
 * exactly — it was the last kept of a bounded list while older ones exist — and the node's evidence
 * must be refolded from its verdicts (`foldVerdicts`).
 */
export function removeVerdict(evidence: NodeEvidence, verdict: Verdict): boolean {
  return apply(evidence, verdict, -1);
}

/**
 * A store's step when it saves `next` (verdicts are saved by id, and re-judged ones replace the old
 * version): takes `previous` (the stored version under that id) out of its node's evidence and adds
 * `next`, so a verdict saved again never counts twice. Nodes whose removal was not exact go in `stale`
 * (refold them after the batch; their evidence is left alone meanwhile).
 */
export function replaceInEvidence(options: {
  previous: Verdict | undefined;
  next: Verdict;
  evidenceOf: (nodeId: string) => NodeEvidence;
  stale: Set<string>;
}): void {
  const { previous, next, evidenceOf, stale } = options;
  if (previous && !stale.has(previous.nodeId) && !removeVerdict(evidenceOf(previous.nodeId), previous))
    stale.add(previous.nodeId);
  if (!stale.has(next.nodeId) && !addVerdict(evidenceOf(next.nodeId), next)) stale.add(next.nodeId);
}

const newerFirst = (a: TimedId, b: TimedId) => a.atMs > b.atMs || (a.atMs === b.atMs && a.id < b.id);
const olderFirst = (a: TimedId, b: TimedId) => a.atMs < b.atMs || (a.atMs === b.atMs && a.id < b.id);

function apply(e: NodeEvidence, v: Verdict, sign: 1 | -1): boolean {
  let exact = true;
  e.verdicts += sign;
  if (sign > 0) rebaseFor(e, v.atMs);
  const ref = e.refMs ?? v.atMs;
  const factor = 2 ** ((v.atMs - ref) / e.halfLifeMs);
  if ((v.kind === 'poc-beacon' || v.kind === 'poc-witness') && v.details?.side !== 'beaconer') {
    count(e.poc, v.status === 'valid', 1, factor, sign);
  }
  if (v.kind === 'spot-check' && v.status !== 'inconclusive') {
    const fraud = v.status === 'fraud';
    count(e.checks, v.status === 'pass', fraud ? FRAUD_EVIDENCE_WEIGHT : 1, factor, sign);
    if (fraud) {
      e.checks.frauds += sign;
      e.fraudMemory =
        e.checks.frauds === 0
          ? 0
          : Math.max(0, e.fraudMemory + sign * 2 ** ((v.atMs - ref) / FRAUD_HALF_LIFE_MS));
    }
    if (isOwnCheck(v)) {
      e.ownChecks += sign;
      if (fraud) e.ownFrauds += sign;
      if (v.status === 'pass') {
        e.ownPasses += sign;
        exact &&= keep(
          e.firstPasses,
          { id: v.id, atMs: v.atMs },
          e.ownPasses,
          olderFirst,
          KEPT_FIRST_PASSES,
          sign,
        );
      }
    }
  }
  if (v.kind === 'availability' && v.status !== 'inconclusive')
    count(e.uptime, v.status === 'up', 1, factor, sign);
  if (v.kind === 'location' && v.status !== 'inconclusive') {
    e.locations += sign;
    exact &&= keep(e.latestLocations, locationSummary(v), e.locations, newerFirst, KEPT_LOCATIONS, sign);
  }
  if (v.status === 'fraud' || (v.kind === 'challenger' && v.status === 'invalid')) {
    e.misconduct += sign;
    exact &&= keep(
      e.latestMisconduct,
      { id: v.id, atMs: v.atMs },
      e.misconduct,
      newerFirst,
      KEPT_MISCONDUCT,
      sign,
    );
  }
  return exact;
}

/** Moves the reference forward when a new verdict's term would exceed 2^REBASE_HALF_LIVES. */
function rebaseFor(e: NodeEvidence, atMs: number): void {
  if (e.refMs === null) {
    e.refMs = atMs;
    return;
  }
  if ((atMs - e.refMs) / e.halfLifeMs <= REBASE_HALF_LIVES) return;
  const scale = 2 ** ((e.refMs - atMs) / e.halfLifeMs);
  for (const t of [e.poc, e.checks, e.uptime]) {
    t.weight *= scale;
    t.positiveWeight *= scale;
  }
  e.fraudMemory *= 2 ** ((e.refMs - atMs) / FRAUD_HALF_LIFE_MS);
  e.refMs = atMs;
}

function count(t: DecayedTally, positive: boolean, weight: number, factor: number, sign: 1 | -1): void {
  t.count += sign;
  if (positive) t.positives += sign;
  if (t.count === 0) {
    // Nothing left: exact zeros, not the rounding residue of subtracting what was added.
    t.weight = t.positiveWeight = 0;
    return;
  }
  t.weight = Math.max(0, t.weight + sign * weight * factor);
  if (positive) t.positiveWeight = Math.max(0, t.positiveWeight + sign * weight * factor);
}

/**
 * Keeps `list` the first `cap` of all such verdicts (`total`, already updated) in `before`'s order.
 * Adding: an item goes in unless others are left out and it comes after the last kept. Removing: false
 * when the list empties while others exist (only a refold can say which comes first now).
 */
function keep<T extends TimedId>(
  list: T[],
  item: T,
  total: number,
  before: (a: TimedId, b: TimedId) => boolean,
  cap: number,
  sign: 1 | -1,
): boolean {
  if (sign < 0) {
    const i = list.findIndex((x) => x.id === item.id);
    if (i >= 0) list.splice(i, 1);
    return list.length > 0 || total === 0;
  }
  const othersLeftOut = total - 1 > list.length;
  const last = list.at(-1);
  if (othersLeftOut && last === undefined) return false;
  if (othersLeftOut && !before(item, last!)) return true;
  let i = list.length;
  while (i > 0 && before(item, list[i - 1]!)) i--;
  list.splice(i, 0, item);
  if (list.length > cap) list.pop();
  return true;
}

function locationSummary(v: Verdict): LocationSummary {
  const c = v.details?.claim;
  const claim =
    c && typeof c === 'object'
      ? (({ lat, lng, claimedAtMs }) => ({
          lat,
          lng,
          ...(claimedAtMs !== undefined ? { claimedAtMs } : {}),
        }))(c as { lat: number; lng: number; claimedAtMs?: number })
      : undefined;
  return {
    id: v.id,
    atMs: v.atMs,
    status: v.status,
    ...(v.reason ? { reason: v.reason } : {}),
    ...(claim ? { claim } : {}),
    proofTrust: v.status === 'impossible' ? 0 : Number(v.details?.locationTrust ?? 0),
  };
}
