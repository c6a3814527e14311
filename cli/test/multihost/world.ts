import { CLAIM_SLACK_KM, maxDistanceKmForRtt } from '@hexedge/coverage-oracle';
import { FIBER_KM_PER_MS, ROUTE_STRETCH } from '@hexedge/placement';
import { greatCircleDistanceKm, type LatLng } from '@hexedge/protocol';

/**
 * The emulated world of the multi-host test: real cities (city-centre coordinates), the hosts that
 * sit in them, and the one-way delay of every host pair, derived from great-circle distance.
 */
export const CITIES = {
  amsterdam: { lat: 52.3676, lng: 4.9041 },
  rotterdam: { lat: 51.9244, lng: 4.4777 },
  frankfurt: { lat: 50.1109, lng: 8.6821 },
  mainz: { lat: 49.9929, lng: 8.2473 },
  milan: { lat: 45.4642, lng: 9.19 },
  bergamo: { lat: 45.6983, lng: 9.6773 },
  brussels: { lat: 50.8503, lng: 4.3517 },
  cologne: { lat: 50.9375, lng: 6.9603 },
  madrid: { lat: 40.4168, lng: -3.7038 },
  haarlem: { lat: 52.3874, lng: 4.6462 },
  'the-hague': { lat: 52.0705, lng: 4.3007 },
  offenbach: { lat: 50.0956, lng: 8.7761 },
  wiesbaden: { lat: 50.0782, lng: 8.2398 },
  monza: { lat: 45.5845, lng: 9.2744 },
  brescia: { lat: 45.5416, lng: 10.2118 },
} as const satisfies Record<string, LatLng>;
export type City = keyof typeof CITIES;

export type Role = 'node' | 'liar' | 'gateway' | 'broker' | 'oracle' | 'caller';

export interface HostSpec {
  /** Short name (≤ 4 characters): part of the namespace and TAP names, which Linux caps at 15. */
  key: string;
  role: Role;
  /** Where the host really is: its round trips follow from here. */
  city: City;
  /** Where a node says it is (its node.yaml `location`); the true city unless it lies. */
  claim?: City;
}

/**
 * Honest edge nodes come in pairs 33–57 km apart (Randstad, Rhine-Main, Lombardy): a latency proof
 * can only bound a node to about twice the distance to its nearest challenger (ROUTE_STRETCH) plus the
 * stacks' processing time (see verifiedWithinKmFor), so a lone node in a city would never be verified;
 * the pairs are hundreds of km apart, so a caller's nearest region is unambiguous. The liar runs in
 * Cologne and claims Madrid, 1,450 km away. Each caller sits nearest one honest node; the Madrid
 * caller is where the liar claims to be.
 */
export const HOSTS: readonly HostSpec[] = [
  { key: 'ams', role: 'node', city: 'amsterdam' },
  { key: 'rot', role: 'node', city: 'rotterdam' },
  { key: 'fra', role: 'node', city: 'frankfurt' },
  { key: 'mai', role: 'node', city: 'mainz' },
  { key: 'mil', role: 'node', city: 'milan' },
  { key: 'ber', role: 'node', city: 'bergamo' },
  { key: 'liar', role: 'liar', city: 'cologne', claim: 'madrid' },
  { key: 'gw', role: 'gateway', city: 'frankfurt' },
  { key: 'mq', role: 'broker', city: 'frankfurt' },
  { key: 'orc', role: 'oracle', city: 'brussels' },
  { key: 'haa', role: 'caller', city: 'haarlem' },
  { key: 'hag', role: 'caller', city: 'the-hague' },
  { key: 'off', role: 'caller', city: 'offenbach' },
  { key: 'wie', role: 'caller', city: 'wiesbaden' },
  { key: 'mon', role: 'caller', city: 'monza' },
  { key: 'bre', role: 'caller', city: 'brescia' },
  { key: 'mad', role: 'caller', city: 'madrid' },
];

/**
 * The emulated network: one /16 behind the switch, each host in a /24 of its own (10.201.<n>.10), as
 * hosts of different operators in different cities would be — the oracle counts one network prefix
 * (/24) as one voice among challengers and checkers. Nothing of it exists in the root namespace.
 */
export const SUBNET_PREFIX = '10.201.';
export const SUBNET_BITS = 16;
export const addressOf = (index: number) => `${SUBNET_PREFIX}${index}.10`;

/**
 * Fixed cost of any path, distance aside: a handful of routers each forwarding a frame (tens of µs)
 * and serialising it (1.2 µs for 1500 bytes at 10 Gbit/s). 5 × 0.05 ms one way makes a round trip
 * cost at least 0.5 ms, the oracle's DEFAULT_PROCESSING_ALLOWANCE_MS, so even two hosts in one city
 * are never faster than the oracle's bound assumes.
 */
export const ROUTER_HOPS = 5;
export const PER_HOP_MS = 0.05;
/**
 * One-way delay between two places: the fibre route (great circle × ROUTE_STRETCH, placement's
 * estimate from Bozkurt et al., PAM 2017) at FIBER_KM_PER_MS (2/3 c), plus the routers. No access
 * network ("last mile") is emulated: hosts sit as if in data centres on the backbone (a 10 ms last
 * mile would bound every node to ≥ 1,000 km, whatever its challengers measure).
 */
export function oneWayDelayMs(a: LatLng, b: LatLng): number {
  return ROUTER_HOPS * PER_HOP_MS + (greatCircleDistanceKm(a, b) * ROUTE_STRETCH) / FIBER_KM_PER_MS;
}

/** The switch's delay matrix, `delayMs[from][to]`, in HOSTS order. */
export function delayMatrixMs(hosts: readonly HostSpec[] = HOSTS): number[][] {
  return hosts.map((a) =>
    hosts.map((b) => (a === b ? 0 : ceil3(oneWayDelayMs(CITIES[a.city], CITIES[b.city])))),
  );
}

/**
 * Time one challenge exchange takes beyond the wire, as measured here between two of the test's Node
 * processes at real-time priority on a busy 2-core machine: 1.5–3 ms of round trip (the challenger's
 * fetch, the node's HTTP server, JSON, two Ed25519 operations, the switch's user-space forwarding),
 * against the 0.5 ms the oracle allows for processing (DEFAULT_PROCESSING_ALLOWANCE_MS).
 */
export const STACK_RTT_MS = 3;

/**
 * The oracle's `verifiedWithinKm` for this world: the widest disc an honest node's nearest challenger
 * (the other node of its pair, or the oracle) can draw around it — its emulated round trip plus
 * STACK_RTT_MS, through the oracle's own bound, plus its claim slack — rounded up to 50 km. With the
 * default 250 km a challenger would have to sit within ~25 km: the stack time alone is 100–250 km.
 */
export function verifiedWithinKmFor(hosts: readonly HostSpec[] = HOSTS): number {
  const honest = hosts.filter((h) => h.role === 'node');
  const challengers = hosts.filter((h) => h.role === 'node' || h.role === 'oracle');
  const widestKm = Math.max(
    ...honest.map((n) => {
      const nearest = Math.min(
        ...challengers.filter((c) => c !== n).map((c) => emulatedRttMs(n.city, c.city)),
      );
      return maxDistanceKmForRtt({ rttMs: nearest + STACK_RTT_MS }) + CLAIM_SLACK_KM;
    }),
  );
  return Math.ceil(widestKm / 50) * 50;
}

export const distanceKm = (a: City, b: City) => greatCircleDistanceKm(CITIES[a], CITIES[b]);
export const emulatedRttMs = (a: City, b: City) => 2 * oneWayDelayMs(CITIES[a], CITIES[b]);
export const round3 = (v: number) => Math.round(v * 1000) / 1000;
/** Rounded up to the µs: a rounded delay is never shorter than the derived one. */
const ceil3 = (v: number) => Math.ceil(v * 1000) / 1000;
