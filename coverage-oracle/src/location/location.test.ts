import { describe, expect, it } from 'vitest';
import { generateNodeKeyPair, greatCircleDistanceKm, type LatLng } from '@hexedge/protocol';
import { answerChallenge, DEFAULT_EXCHANGES_PER_CHALLENGE, LatencyChallenger, type FetchLike } from '@hexedge/protocol';
import { selectChallengers } from './challenger.ts';
import { combineLocationObservations, type LatencyObservation } from './combine.ts';
import {
  checkClaimAgainstRtt,
  FIBER_KM_PER_MS,
  maxDistanceKmForRtt,
  SPEED_OF_LIGHT_KM_PER_MS,
} from './latency-bound.ts';

const AMSTERDAM = { lat: 52.37, lng: 4.9 };
const ROTTERDAM = { lat: 51.92, lng: 4.48 };
const UTRECHT = { lat: 52.09, lng: 5.12 };
const HAARLEM = { lat: 52.38, lng: 4.64 };
const FRANKFURT = { lat: 50.11, lng: 8.68 };
const PARIS = { lat: 48.86, lng: 2.35 };

/** The round trip an honest challenger would see over fibre, plus some switching delay. */
function honestRttMs(a: LatLng, b: LatLng, extraMs = 1): number {
  return (2 * greatCircleDistanceKm(a, b)) / FIBER_KM_PER_MS + 0.5 + extraMs;
}

describe('latency bound', () => {
  it('derives fibre speed from c and never lets the bound beat light', () => {
    expect(FIBER_KM_PER_MS).toBeCloseTo(199.86, 2);
    expect(maxDistanceKmForRtt({ rttMs: 2, processingMs: 0 })).toBeCloseTo(199.86, 2);
    // Even with a made-up medium faster than light, the bound stays at c × rtt / 2 (~150 km per ms).
    expect(maxDistanceKmForRtt({ rttMs: 2, processingMs: 0, mediumKmPerMs: 1000 })).toBeCloseTo(
      SPEED_OF_LIGHT_KM_PER_MS,
      6,
    );
  });

  it('rejects a node claiming to be 500 km from a challenger that sees a 2 ms round trip', () => {
    expect(checkClaimAgainstRtt({ claimDistanceKm: 500, rttMs: 2 }).status).toBe('impossible');
    expect(checkClaimAgainstRtt({ claimDistanceKm: 150, rttMs: 2 }).status).toBe('consistent');
  });

  it('the same, through the combined verdict of three challengers near the real node', () => {
    const claim = PARIS; // ~430-500 km from the Dutch challengers, who all see 2 ms
    const observations: LatencyObservation[] = [AMSTERDAM, ROTTERDAM, UTRECHT].map((loc, i) => ({
      challengerId: `c${i}`,
      challengerLocation: loc,
      rttMs: 2,
    }));
    expect(greatCircleDistanceKm(claim, AMSTERDAM)).toBeGreaterThan(400);
    const verdict = combineLocationObservations({ claim, observations });
    expect(verdict).toMatchObject({ status: 'impossible', reason: 'CLAIM_OUTSIDE_BOUND', locationTrust: 0 });
    expect(greatCircleDistanceKm(verdict.estimate!, UTRECHT)).toBeLessThan(200);
  });
});

describe('combineLocationObservations', () => {
  const challengers = { a: AMSTERDAM, r: ROTTERDAM, u: UTRECHT, h: HAARLEM };
  const honest = (node: LatLng, extraMs = 1) =>
    Object.entries(challengers).map(([id, loc]) => ({
      challengerId: id,
      challengerLocation: loc,
      rttMs: honestRttMs(node, loc, extraMs),
    }));

  it('verifies an honest node near its challengers, with a tight estimate', () => {
    const node = { lat: 52.2, lng: 4.8 };
    const verdict = combineLocationObservations({ claim: node, observations: honest(node) });
    expect(verdict.status).toBe('verified');
    expect(verdict.locationTrust).toBeGreaterThan(0.8);
    expect(verdict.outlierChallengers).toEqual([]);
    expect(greatCircleDistanceKm(verdict.estimate!, node)).toBeLessThan(verdict.uncertaintyKm!);
  });

  it('tolerates one lying challenger out of four (it claims an impossible 0.1 ms to frame the node)', () => {
    const node = { lat: 52.2, lng: 4.8 };
    const observations = honest(node).map((o) => (o.challengerId === 'r' ? { ...o, rttMs: 0.1 } : o));
    const verdict = combineLocationObservations({ claim: node, observations });
    expect(verdict.status).toBe('verified');
    expect(verdict.outlierChallengers).toEqual(['r']);
    expect(verdict.locationTrust).toBeLessThan(
      combineLocationObservations({ claim: node, observations: honest(node) }).locationTrust,
    );
  });

  it('by default (minTightChallengers 2), lets no lone colluding challenger vouch for a far-off claim with an impossible 0.1 ms (found by the adversary simulation)', () => {
    // The node is in Frankfurt and claims Haarlem; honest challengers nearby see Frankfurt's round
    // trips, whose discs (bounds from above) contain the claim; one colluder at the claim says 0.1 ms.
    const claim = HAARLEM;
    const observations = honest(FRANKFURT).map((o) => (o.challengerId === 'h' ? { ...o, rttMs: 0.1 } : o));
    const verdict = combineLocationObservations({ claim, observations, minTightChallengers: 2 });
    expect(verdict.status).toBe('unverified');
    expect(verdict.uncertaintyKm).toBeGreaterThan(250);
    // The default is 2: the same verdict without the option.
    expect(combineLocationObservations({ claim, observations })).toMatchObject({ status: 'unverified', reason: 'TOO_UNCERTAIN' });
    // 1 takes the tightest disc alone: the colluder vouches (the hole a young network setting 1 accepts).
    expect(combineLocationObservations({ claim, observations, minTightChallengers: 1 }).status).toBe('verified');
    // Honest nodes near two or more challengers are verified as before.
    const node = { lat: 52.2, lng: 4.8 };
    expect(combineLocationObservations({ claim: node, observations: honest(node), minTightChallengers: 2 }).status).toBe('verified');
  });

  it('calls a far, slow-answering node unverified rather than verified (latency only bounds from above)', () => {
    const verdict = combineLocationObservations({
      claim: { lat: 52.2, lng: 4.8 },
      observations: honest(FRANKFURT, 30),
    });
    expect(verdict.status).toBe('unverified');
    expect(verdict.locationTrust).toBeLessThan(0.5);
  });

  it('is inconclusive with too few challengers or no majority', () => {
    expect(
      combineLocationObservations({ claim: AMSTERDAM, observations: honest(AMSTERDAM).slice(0, 2) }).reason,
    ).toBe('TOO_FEW_CHALLENGERS');
    const split = [
      { challengerId: 'a', challengerLocation: AMSTERDAM, rttMs: 0.6 },
      { challengerId: 'h', challengerLocation: HAARLEM, rttMs: 1 },
      { challengerId: 'f', challengerLocation: FRANKFURT, rttMs: 0.6 },
      { challengerId: 'p', challengerLocation: PARIS, rttMs: 0.6 },
    ];
    expect(combineLocationObservations({ claim: AMSTERDAM, observations: split }).reason).toBe('NO_MAJORITY');
  });
});

describe('selectChallengers', () => {
  const oracle = { nodeId: 'oracle', location: PARIS };
  it('always includes the oracle, then verifiers nearest the claim, never the node itself', () => {
    const candidates = [
      { nodeId: 'self', location: AMSTERDAM, verifier: true },
      { nodeId: 'untrusted', location: HAARLEM, verifier: false },
      { nodeId: 'r', location: ROTTERDAM, verifier: true },
      { nodeId: 'u', location: UTRECHT, verifier: true },
      { nodeId: 'f', location: FRANKFURT, verifier: true },
    ];
    // The oracle is in Paris, farther than every verifier: it is still a challenger.
    expect(
      selectChallengers({ claim: AMSTERDAM, target: { nodeId: 'self' }, oracle, candidates, count: 3 }).map(
        (c) => c.nodeId,
      ),
    ).toEqual(['oracle', 'u', 'r']);
  });

  it('gives one operator and one network prefix one voice, and none to the target’s own', () => {
    const candidates = [
      { nodeId: 'a1', location: HAARLEM, verifier: true, operatorId: 'A', url: 'http://198.51.100.7:8080' },
      { nodeId: 'a2', location: UTRECHT, verifier: true, operatorId: 'A', url: 'http://203.0.113.9:8080' },
      {
        nodeId: 'b1',
        location: ROTTERDAM,
        verifier: true,
        operatorId: 'B',
        url: 'http://198.51.100.99:8080',
      },
      { nodeId: 't2', location: HAARLEM, verifier: true, operatorId: 'T', url: 'http://192.0.2.5:8080' },
      {
        nodeId: 'c1',
        location: FRANKFURT,
        verifier: true,
        operatorId: 'C',
        url: 'http://[2001:db8:1::5]:8080',
      },
      {
        nodeId: 'c2',
        location: FRANKFURT,
        verifier: true,
        operatorId: 'D',
        url: 'http://[2001:db8:1:0:ffff::9]:8080',
      },
    ];
    const picked = selectChallengers({
      claim: AMSTERDAM,
      target: { nodeId: 'self', operatorId: 'T', url: 'http://192.0.2.1:8080' },
      oracle,
      candidates,
      count: 10,
    });
    expect(picked.map((c) => c.nodeId)).toEqual(['oracle', 'a1', 'c1']);
  });
});

describe('LatencyChallenger', () => {
  it('times a signed answer through an injected transport and refuses a forged one', async () => {
    const [challengerKeys, nodeKeys, impostor] = await Promise.all([
      generateNodeKeyPair(),
      generateNodeKeyPair(),
      generateNodeKeyPair(),
    ]);
    let clock = 0;
    const transport =
      (signer: typeof nodeKeys): FetchLike =>
      async (url, init) => {
        expect(url).toBe('http://node.test:9000/v1/oracle/challenge');
        clock += 3; // 3 ms on the wire
        const answer = await answerChallenge(JSON.parse(init.body), signer);
        return { ok: true, status: 200, json: async () => answer };
      };
    const honest = new LatencyChallenger({
      keys: challengerKeys,
      location: UTRECHT,
      fetch: transport(nodeKeys),
      clockMs: () => clock,
    });
    const outcome = await honest.challenge({ nodeId: nodeKeys.nodeId, url: 'http://node.test:9000' });
    expect(outcome).toMatchObject({
      ok: true,
      observation: { challengerId: challengerKeys.nodeId, rttMs: 3 },
    });

    // The impostor signs with its own key: its answer is no proof of the target's presence.
    const forged = new LatencyChallenger({
      keys: challengerKeys,
      location: UTRECHT,
      fetch: async (url, init) => {
        const challenge = JSON.parse(init.body);
        const answer = await answerChallenge(
          { ...challenge, body: { ...challenge.body, targetNodeId: impostor.nodeId } },
          impostor,
        );
        return { ok: true, status: 200, json: async () => answer };
      },
    });
    expect(await forged.challenge({ nodeId: nodeKeys.nodeId, url: 'http://node.test:9000' })).toMatchObject({
      ok: false,
      reason: 'BAD_RESPONSE',
    });

    const down = new LatencyChallenger({
      keys: challengerKeys,
      location: UTRECHT,
      fetch: async () => {
        throw new TypeError('fetch failed');
      },
    });
    expect(await down.challenge({ nodeId: nodeKeys.nodeId, url: 'http://node.test:9000' })).toMatchObject({
      ok: false,
      reason: 'NO_ANSWER',
    });
  });

  it('reports the fastest exchange, so opening the connection does not count the distance twice', async () => {
    const [challengerKeys, nodeKeys] = await Promise.all([generateNodeKeyPair(), generateNodeKeyPair()]);
    let clock = 0;
    let connected = false;
    const answered: string[] = [];
    const transport: FetchLike = async (_url, init) => {
      // 4 ms round trip; the first exchange also pays the TCP handshake (a minute after the last
      // challenge, keep-alive has long closed the connection): 8 ms, which alone would bound the node
      // to twice its distance.
      clock += connected ? 4 : 8;
      connected = true;
      const answer = await answerChallenge(JSON.parse(init.body), nodeKeys);
      answered.push(answer!.body.nonce);
      return { ok: true, status: 200, json: async () => answer };
    };
    const challenger = new LatencyChallenger({ keys: challengerKeys, location: UTRECHT, fetch: transport, clockMs: () => clock });
    const outcome = await challenger.challenge({ nodeId: nodeKeys.nodeId, url: 'http://node.test:9000' });
    expect(answered).toHaveLength(DEFAULT_EXCHANGES_PER_CHALLENGE);
    expect(outcome).toMatchObject({ ok: true, observation: { rttMs: 4 } });
    if (!outcome.ok) throw new Error('expected an answer');
    // What is reported is one whole proof: the node's signature over that exchange's own nonce.
    expect(answered.slice(1)).toContain(outcome.nonce);
    expect(outcome.response.body).toMatchObject({ nonce: outcome.nonce, nodeId: nodeKeys.nodeId, challengerId: challengerKeys.nodeId });

    // One exchange, as before: the handshake is counted.
    connected = false;
    const single = new LatencyChallenger({ keys: challengerKeys, location: UTRECHT, fetch: transport, clockMs: () => clock, exchanges: 1 });
    expect(await single.challenge({ nodeId: nodeKeys.nodeId, url: 'http://node.test:9000' })).toMatchObject({ ok: true, observation: { rttMs: 8 } });
  });

  it('stops at the first failed exchange: reports the fastest answer if there was one, else the failure', async () => {
    const [challengerKeys, nodeKeys] = await Promise.all([generateNodeKeyPair(), generateNodeKeyPair()]);
    let clock = 0;
    let calls = 0;
    const answersThenFails = (answers: number): FetchLike => async (_url, init) => {
      calls++;
      clock += 5;
      if (calls > answers) throw new TypeError('fetch failed');
      const answer = await answerChallenge(JSON.parse(init.body), nodeKeys);
      return { ok: true, status: 200, json: async () => answer };
    };
    const target = { nodeId: nodeKeys.nodeId, url: 'http://node.test:9000' };
    const once = new LatencyChallenger({ keys: challengerKeys, location: UTRECHT, fetch: answersThenFails(1), clockMs: () => clock, exchanges: 5 });
    expect(await once.challenge(target)).toMatchObject({ ok: true, observation: { rttMs: 5 } });
    expect(calls).toBe(2);
    calls = 0;
    const never = new LatencyChallenger({ keys: challengerKeys, location: UTRECHT, fetch: answersThenFails(0), clockMs: () => clock, exchanges: 5 });
    expect(await never.challenge(target)).toMatchObject({ ok: false, reason: 'NO_ANSWER' });
    expect(calls).toBe(1);
  });

  it('a node does not answer a challenge meant for another node', async () => {
    const [c, n, other] = await Promise.all([
      generateNodeKeyPair(),
      generateNodeKeyPair(),
      generateNodeKeyPair(),
    ]);
    const { createChallenge } = await import('@hexedge/protocol');
    const challenge = await createChallenge({ challenger: c, targetNodeId: other.nodeId, nowMs: 1 });
    expect(await answerChallenge(challenge, n)).toBeNull();
  });
});
