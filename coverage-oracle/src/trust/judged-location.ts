import type { LocationSummary } from './node-evidence.ts';

/**
 * How long a verified proof of a claim stands through later rounds that were too uncertain to judge
 * it (TOO_UNCERTAIN: the round's tightest bounds were looser than `verifiedWithinKm`, which says
 * nothing against the claim). Each challenge round's verdict used to replace the last, so one slow
 * round (loaded challengers, a congested link) took an honest node's verified location, and with it
 * its standing and traffic, away until the next good round. Bounded: a node that has really moved
 * yields loose bounds too, so after this long (or KEPT_LOCATIONS uncertain rounds in a row, which push
 * the verified verdict out of the kept list) the uncertain verdict counts.
 */
export const LOCATION_HOLD_MS = 30 * 60_000;

const isTooUncertain = (l: LocationSummary) => l.status === 'unverified' && l.reason === 'TOO_UNCERTAIN';

const sameClaim = (a: LocationSummary['claim'], b: LocationSummary['claim']) =>
  a !== undefined && b !== undefined && a.lat === b.lat && a.lng === b.lng && a.claimedAtMs === b.claimedAtMs;

/**
 * The location verdict that counts for trust and standing: the newest conclusive one, except that
 * rounds too uncertain to judge do not revoke a verified proof of the same claim younger than
 * LOCATION_HOLD_MS. An impossible verdict, a verdict on another claim, or a verified proof too old
 * always leaves the newest verdict in charge. `heldThrough`: the uncertain rounds it stood through.
 */
export function judgedLocation(
  latest: readonly LocationSummary[],
  nowMs: number,
): { location: LocationSummary; heldThrough: number } | undefined {
  const newest = latest[0];
  if (!newest) return undefined;
  if (!isTooUncertain(newest)) return { location: newest, heldThrough: 0 };
  let uncertain = 0;
  for (const l of latest) {
    if (isTooUncertain(l) && sameClaim(l.claim, newest.claim)) {
      uncertain++;
      continue;
    }
    if (l.status === 'verified' && sameClaim(l.claim, newest.claim) && nowMs - l.atMs <= LOCATION_HOLD_MS)
      return { location: l, heldThrough: uncertain };
    break;
  }
  return { location: newest, heldThrough: 0 };
}
