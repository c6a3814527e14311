/**
 * The adversary's identities (issue 16's attacks) and what each does. A sybil is an identity the
 * attacker registered; what it does with it is its role:
 * - liar: fakes 20–100 % of its answers (result liar);
 * - cheat1: fakes 1 % of its answers (the PoSP case: cheating only where it is unlikely to be sampled);
 * - grinder: fakes half its answers and grinds its receipts (service time, issue time) for the
 *   checker draw it can compute, hoping its own verifiers hold the slots;
 * - relay: no hardware; passes each request on to an honest node's endpoint;
 * - sticky: where it claims, until its location is verified; then moves its claim ≥ 300 km to a city
 *   it is not in, hoping "verified" follows the move;
 * - evict: no hardware (fakes every answer); reports honest nodes nearby as not answering, unasked;
 * - frame: no hardware (fakes every answer); would return a coordinated wrong output as a checker;
 * - wash: the attacker's real hardware, answers right, and its operator pays for requests near it;
 * - sleeper: the attacker's real hardware that earned standing (bonded stake, seasoned, verified
 *   location) before the run: as a checker it frames honest nodes and vouches for the attacker's
 *   cheaters, as a challenger it reports its targets unreachable or impossibly near.
 */
export type SybilRole =
  'liar' | 'cheat1' | 'grinder' | 'relay' | 'sticky' | 'evict' | 'frame' | 'wash' | 'sleeper';
export const SYBIL_ROLES: readonly SybilRole[] = [
  'liar',
  'cheat1',
  'grinder',
  'relay',
  'sticky',
  'evict',
  'frame',
  'wash',
  'sleeper',
];

/**
 * Relative weights of the roles among the sybils (normalised). Free identities dominate: most attacks
 * need no hardware. Hardware that answers right from where it is (sticky until it moves, wash,
 * sleeper) is a real operator's capacity, competing fairly for traffic until it lies; the attacker is
 * assumed to have little of it (5 % of the sybils, 1.5 % of the identities at 30 %).
 */
export const DEFAULT_SYBIL_MIX: Readonly<Record<SybilRole, number>> = {
  liar: 0.24,
  cheat1: 0.17,
  grinder: 0.13,
  relay: 0.17,
  sticky: 0.03,
  evict: 0.12,
  frame: 0.12,
  wash: 0.01,
  sleeper: 0.01,
};

/** How a role answers requests (its share of faked answers), whether it relays, and whether it starts with standing. */
export function behaviourOf(
  role: SybilRole,
  rand: () => number,
): { lieRate: number; relay: boolean; standing: boolean } {
  switch (role) {
    case 'liar':
      return { lieRate: 0.2 + 0.8 * rand(), relay: false, standing: false };
    case 'cheat1':
      return { lieRate: 0.01, relay: false, standing: false };
    case 'grinder':
      return { lieRate: 0.5, relay: false, standing: false };
    case 'relay':
      return { lieRate: 0, relay: true, standing: false };
    case 'evict':
    case 'frame':
      return { lieRate: 1, relay: false, standing: false };
    case 'sticky':
    case 'wash':
      return { lieRate: 0, relay: false, standing: false };
    case 'sleeper':
      return { lieRate: 0, relay: false, standing: true };
  }
}

/** Counts per role for `total` sybils, by largest remainder (so they sum to `total` exactly). */
export function roleCounts(total: number, mix: Readonly<Record<SybilRole, number>>): Map<SybilRole, number> {
  const weightSum = SYBIL_ROLES.reduce((s, r) => s + mix[r], 0);
  const exact = SYBIL_ROLES.map((r) => ({ r, v: (total * mix[r]) / weightSum }));
  const counts = new Map(exact.map(({ r, v }) => [r, Math.floor(v)]));
  let left = total - [...counts.values()].reduce((s, c) => s + c, 0);
  for (const { r } of [...exact].sort((a, b) => (b.v % 1) - (a.v % 1))) {
    if (left-- <= 0) break;
    counts.set(r, counts.get(r)! + 1);
  }
  return counts;
}
