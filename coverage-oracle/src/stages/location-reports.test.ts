import {
  answerChallenge,
  greatCircleDistanceKm,
  LatencyChallenger,
  locationReportFor,
  type LatLng,
  type NodeKeyPair,
} from '@hexedge/protocol';
import { beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../../test/fixtures/reports.ts';
import { MemoryDirectory } from '../directory.ts';
import { FIBER_KM_PER_MS } from '../location/latency-bound.ts';
import { MemoryOracleStore } from '../store/memory-store.ts';
import type { StoredReport } from '../store/records.ts';
import { handleLocationReport } from './location-reports.ts';

const T0 = 1_750_000_000_000;
const CLAIM: LatLng = { lat: 52.2, lng: 4.8 };
const PLACES: LatLng[] = [
  { lat: 52.37, lng: 4.9 },
  { lat: 51.92, lng: 4.48 },
  { lat: 52.09, lng: 5.12 },
  { lat: 52.38, lng: 4.64 },
  { lat: 52.16, lng: 4.49 },
  { lat: 52.0, lng: 4.36 },
];
let oracle: NodeKeyPair, target: NodeKeyPair, challengers: NodeKeyPair[];
beforeAll(async () => {
  [oracle, target, ...challengers] = await keys(7);
});

/** A challenger's report on `of`: answered with the round trip it says, or not answered. */
async function report(by: NodeKeyPair, of: NodeKeyPair, o: { rttMs?: number; place: LatLng }) {
  if (o.rttMs === undefined)
    return locationReportFor({
      outcome: { ok: false, reason: 'NO_ANSWER', targetNodeId: of.nodeId, challengerId: by.nodeId },
      challenger: by,
      nowMs: T0,
    });
  // A clock that moves by the claimed round trip during each exchange (the wire), and not otherwise.
  let nowMs = 0;
  const challenger = new LatencyChallenger({
    keys: by,
    location: o.place,
    clockMs: () => nowMs,
    fetch: async (_url, init) => {
      nowMs += o.rttMs!;
      return { ok: true, status: 200, json: async () => answerChallenge(JSON.parse(init.body), of) };
    },
  });
  return locationReportFor({
    outcome: await challenger.challenge({ nodeId: of.nodeId, url: 'http://n.test' }),
    challenger: by,
    nowMs: T0,
  });
}

function setup() {
  const store = new MemoryOracleStore();
  const directory = new MemoryDirectory();
  directory.putReporter({
    nodeId: oracle.nodeId,
    location: PLACES[0]!,
    roles: ['challenger'],
    trusted: true,
  });
  challengers.forEach((c, i) =>
    directory.putReporter({ nodeId: c.nodeId, location: PLACES[i + 1]!, roles: ['challenger'] }),
  );
  directory.putNode({
    nodeId: target.nodeId,
    location: CLAIM,
    url: 'http://t.test',
    models: [],
    claimedAtMs: T0 - 60_000,
  });
  let seq = 0;
  const add = async (signed: Awaited<ReturnType<typeof report>>, atMs = T0): Promise<StoredReport> => {
    const stored = {
      seq: ++seq,
      type: 'location' as const,
      nodeId: signed.body.nodeId,
      receivedAtMs: atMs,
      roundKey: `loc:${signed.body.targetNodeId}`,
      body: signed.body as unknown as Record<string, unknown>,
      signature: signed.signature,
    };
    store.appendReports([stored]);
    return store.listRoundReports(stored.roundKey).at(-1)!;
  };
  const judge = (r: StoredReport) =>
    handleLocationReport(r, { store, directory, minChallengers: 3, oracleId: oracle.nodeId });
  return { store, directory, add, judge };
}
const honestRtt = (from: LatLng) => (2 * greatCircleDistanceKm(from, CLAIM)) / FIBER_KM_PER_MS + 1.5;

describe('location reports', () => {
  it('counts a node challenger’s "not answered" only when the oracle’s own probe of that challenger succeeded', async () => {
    const { add, judge } = setup();
    const [first] = challengers;
    const uncorroborated = await judge(await add(await report(first!, target, { place: PLACES[1]! })));
    expect(uncorroborated.verdicts[0]).toMatchObject({
      kind: 'availability',
      status: 'inconclusive',
      reason: 'CHALLENGER_NOT_CORROBORATED',
    });
    // The oracle's own probe of the challenger was answered: the challenger is reachable, its word counts.
    await add(await report(oracle, first!, { place: PLACES[0]!, rttMs: 2 }));
    const corroborated = await judge(await add(await report(first!, target, { place: PLACES[1]! }), T0 + 1));
    expect(corroborated.verdicts[0]).toMatchObject({ status: 'down' });
    // The oracle's own "not answered" always counts.
    expect(
      (await judge(await add(await report(oracle, target, { place: PLACES[0]! }), T0 + 2))).verdicts[0],
    ).toMatchObject({ status: 'down' });
  });

  it('holds with a third of the challengers lying, names the claim it judged, and takes standing from the liars', async () => {
    const { add, judge } = setup();
    const all = [oracle, ...challengers];
    let last: StoredReport | undefined;
    for (const [i, c] of all.entries()) {
      // Two of six claim impossibly short round trips to the target (to call its claim impossible).
      const rttMs = i === 2 || i === 4 ? 0.55 : honestRtt(PLACES[i]!);
      last = await add(await report(c, target, { place: PLACES[i]!, rttMs }), T0 + i);
    }
    const { verdicts } = await judge(last!);
    const location = verdicts.find((v) => v.kind === 'location')!;
    expect(location).toMatchObject({
      status: 'verified',
      details: { claim: { lat: CLAIM.lat, lng: CLAIM.lng, claimedAtMs: T0 - 60_000 } },
    });
    const judged = verdicts.filter((v) => v.kind === 'challenger');
    expect(
      judged
        .filter((v) => v.status === 'invalid')
        .map((v) => v.nodeId)
        .sort(),
    ).toEqual([all[2]!.nodeId, all[4]!.nodeId].sort());
    expect(judged.filter((v) => v.status === 'valid')).toHaveLength(3);
    // The oracle is never judged by the nodes it judges.
    expect(judged.map((v) => v.nodeId)).not.toContain(oracle.nodeId);
  });

  it('judges only reports made since the current claim', async () => {
    const { add, judge, directory } = setup();
    for (const [i, c] of [oracle, ...challengers.slice(0, 2)].entries())
      await add(await report(c, target, { place: PLACES[i]!, rttMs: honestRtt(PLACES[i]!) }), T0 + i);
    // The node moves: what was measured for the old claim says nothing about the new one.
    directory.putNode({
      nodeId: target.nodeId,
      location: { lat: 48.14, lng: 11.58 },
      url: 'http://t.test',
      models: [],
      claimedAtMs: T0 + 100,
    });
    const { verdicts } = await judge(
      await add(await report(oracle, target, { place: PLACES[0]!, rttMs: 2 }), T0 + 200),
    );
    expect(verdicts.find((v) => v.kind === 'location')).toBeUndefined(); // one challenger since the move: too few
  });
});

describe('surveyed anchors', () => {
  /** Three far challengers: their round trips allow the claim but cannot pin it within the verify radius. */
  async function judgeFromFar(o: { anchorAt?: LatLng }) {
    const { add, judge, directory } = setup();
    if (o.anchorAt) directory.putReporter({ nodeId: target.nodeId, location: o.anchorAt, roles: ['challenger'], trusted: true });
    const far: LatLng[] = [
      { lat: 48.85, lng: 2.35 },
      { lat: 50.11, lng: 8.68 },
      { lat: 53.55, lng: 9.99 },
    ];
    let last: StoredReport | undefined;
    for (const [i, place] of far.entries()) {
      const by = [oracle, ...challengers][i]!;
      directory.putReporter({ nodeId: by.nodeId, location: place, roles: ['challenger'], trusted: true });
      last = await add(await report(by, target, { place, rttMs: honestRtt(place) }), T0 + i);
    }
    return (await judge(last!)).verdicts.find((v) => v.kind === 'location')!;
  }

  it('a node that is not an anchor stays unverified when the challengers are too far to pin it', async () => {
    expect(await judgeFromFar({})).toMatchObject({ status: 'unverified', reason: 'TOO_UNCERTAIN' });
  });

  it("verifies an anchor claiming its surveyed place (the network's trust root), but not one claiming elsewhere", async () => {
    expect(await judgeFromFar({ anchorAt: { lat: CLAIM.lat + 0.02, lng: CLAIM.lng } })).toMatchObject({ status: 'verified', reason: 'SURVEYED_ANCHOR' });
    // Surveyed 100 km away from where it claims to be: judged like any node.
    expect(await judgeFromFar({ anchorAt: { lat: CLAIM.lat + 0.9, lng: CLAIM.lng } })).toMatchObject({ status: 'unverified', reason: 'TOO_UNCERTAIN' });
  });
});
