import {
  answerChallenge,
  answerProbe,
  createChallenge,
  createProbe,
  isValidChallengeResponse,
  MAX_REPORTS_BODY_BYTES,
  signBody,
  type NodeKeyPair,
} from '@hexedge/protocol';
import { beforeAll, describe, expect, it } from 'vitest';
import { createOracleApp, Ingest, MemoryDirectory, MemoryOracleStore } from '../src/index.ts';
import { BEACONER_CELL, hotspot } from './fixtures/poc.ts';
import { makeOracle } from './fixtures/oracle.ts';
import { keys, signReceipt, signReport, tensorsFor } from './fixtures/reports.ts';

/*
 * The oracle's signed messages — reports (with forwarded receipts), latency challenges and their
 * responses, probes — with a flipped byte, the wrong key, or replayed: refused,
 * and nothing stored. (Reward manifests with a changed byte: src/rewards/rewards.test.ts.)
 */

const NOW = Date.UTC(2025, 5, 1, 12);
const beaconBody = {
  type: 'beacon',
  entropyId: 'e1',
  beacon: { data: 'YmVhY29u', frequencyHz: 868_100_000, datarate: 'SF9BW125', txPowerDbm: 27 },
};
let hs: NodeKeyPair, gateway: NodeKeyPair, node: NodeKeyPair, thief: NodeKeyPair, oracle: NodeKeyPair;

beforeAll(async () => {
  [hs, gateway, node, thief, oracle] = await keys(5);
});

function setup() {
  const directory = new MemoryDirectory();
  directory.putHotspot(hotspot(hs.nodeId, BEACONER_CELL));
  directory.putReporter({ nodeId: gateway.nodeId, roles: ['gateway'] });
  const store = new MemoryOracleStore();
  const stored = () => store.listReports({ afterSeq: 0, limit: 1000 }).length;
  return { store, stored, ingest: new Ingest({ store, directory }) };
}

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** The other spellings of a 64-byte signature: its last character with different (unused) low 4 bits. */
const respellings = (signature: string) => {
  const last = BASE64URL.indexOf(signature.at(-1)!);
  return Array.from({ length: 16 }, (_, low) => (last & ~15) | low)
    .filter((i) => i !== last)
    .map((i) => signature.slice(0, -1) + BASE64URL[i]);
};

const flip = (s: string, at = 20) => s.slice(0, at) + (s[at] === 'A' ? 'B' : 'A') + s.slice(at + 1);

describe('oracle reports', () => {
  it('looks nothing up for a forged or unsigned report: no directory read, no trust-table scan', async () => {
    const directory = new MemoryDirectory();
    directory.putReporter({ nodeId: gateway.nodeId, roles: ['gateway'] });
    const lookups: string[] = [];
    const spied = {
      getHotspot: (k: string) => (lookups.push(`hotspot ${k}`), directory.getHotspot(k)),
      listHotspots: () => directory.listHotspots(),
      getNode: (id: string) => (lookups.push(`node ${id}`), directory.getNode(id)),
      listNodes: () => (lookups.push('nodes'), directory.listNodes()),
      // A node may report as a challenger only while trusted: the real directory reads its trust here.
      getReporter: (id: string) => (lookups.push(`reporter ${id}`), directory.getReporter(id)),
    };
    const store = new MemoryOracleStore();
    const trustReads = { n: 0 };
    const listTrust = store.listTrust.bind(store);
    store.listTrust = () => (trustReads.n++, listTrust());
    const ingest = new Ingest({ store, directory: spied });
    const location = await signReport(
      thief,
      { type: 'location', targetNodeId: node.nodeId, answered: false },
      NOW,
    );
    const forged = { ...location, signature: flip(location.signature) };
    const unsigned = { body: location.body, signature: 'A'.repeat(86) };
    for (const report of [
      forged,
      unsigned,
      { ...location, body: { ...location.body, nodeId: gateway.nodeId } },
    ]) {
      expect(await ingest.submit(report, NOW)).toMatchObject({ accepted: false, code: 'BAD_SIGNATURE' });
    }
    expect(lookups).toEqual([]);
    expect(trustReads.n).toBe(0);
    // A correctly signed report from a stranger is looked up once, and refused for its standing.
    expect(await ingest.submit(location, NOW)).toMatchObject({ accepted: false, code: 'UNKNOWN_NODE' });
    expect(lookups).toEqual([`reporter ${thief.nodeId}`]);
  });

  it("reads one node's trust by key and an epoch's manifest by number, never the whole table or log", async () => {
    const store = new MemoryOracleStore();
    store.listTrust = () => {
      throw new Error('trust table scanned');
    };
    store.listLogHashes = () => {
      throw new Error('epoch log hash lists read');
    };
    const { oracle: coverage } = makeOracle({ oracleKeys: oracle, nowMs: NOW, store });
    expect(coverage.isVerifier(node.nodeId)).toBe(false);
    expect(coverage.getManifest(7)).toBeUndefined();
    const app = createOracleApp({ oracle: coverage, oracleId: oracle.nodeId, store, nowMs: () => NOW });
    const res = await app.request(`/v1/oracle/nodes/${node.nodeId}`);
    expect(res.status).toBe(200);
  });

  it('refuses a flipped signature byte and a changed body with BAD_SIGNATURE, storing nothing', async () => {
    const { ingest, stored } = setup();
    const signed = await signReport(hs, beaconBody, NOW);
    expect(await ingest.submit({ ...signed, signature: flip(signed.signature) }, NOW)).toMatchObject({
      accepted: false,
      code: 'BAD_SIGNATURE',
    });
    expect(
      await ingest.submit(
        { ...signed, body: { ...signed.body, beacon: { ...beaconBody.beacon, txPowerDbm: 36 } } },
        NOW,
      ),
    ).toMatchObject({ accepted: false, code: 'BAD_SIGNATURE' });
    expect(stored()).toBe(0);
  });

  it('refuses a report in a hotspot’s name signed with another key (a stolen identity needs the key)', async () => {
    const { ingest, stored } = setup();
    const forged = await signBody(
      'report',
      { ...beaconBody, nonce: 'A'.repeat(22), issuedAtMs: NOW, nodeId: hs.nodeId },
      thief.privateKey,
    );
    expect(await ingest.submit(forged, NOW)).toMatchObject({ accepted: false, code: 'BAD_SIGNATURE' });
    expect(stored()).toBe(0);
  });

  it('refuses a replayed nonce (REPLAYED), within a batch too, and a report replayed after 5 minutes (STALE_MESSAGE)', async () => {
    const { ingest, stored } = setup();
    const signed = await signReport(hs, beaconBody, NOW);
    expect((await ingest.submit(signed, NOW)).accepted).toBe(true);
    expect(await ingest.submit(signed, NOW + 1000)).toMatchObject({ accepted: false, code: 'REPLAYED' });
    expect(await ingest.submit(signed, NOW + 5 * 60_000 + 1)).toMatchObject({
      accepted: false,
      code: 'STALE_MESSAGE',
    });
    const again = await signReport(hs, beaconBody, NOW);
    expect((await ingest.submitBatch([again, again], NOW)).map((r) => r.accepted)).toEqual([true, false]);
    expect(stored()).toBe(2);
  });

  it('refuses a receipt report whose forwarded receipt has a flipped byte or the wrong signer (a fake result)', async () => {
    const { ingest, stored } = setup();
    const inputs = tensorsFor([20, 50, 600], 'readings');
    const outputs = tensorsFor([0.1, 0.9]);
    const receipt = await signReceipt(node, { requestId: 'r1', inputs, outputs, issuedAtMs: NOW });
    const request = { kind: 'tensors', modelName: 'comfort-index', modelVersion: '1', inputs };
    const result = { kind: 'tensors', outputs };
    const flipped = { ...receipt, signature: flip(receipt.signature) };
    expect(
      await ingest.submit(
        await signReport(gateway, { type: 'receipt', receipt: flipped, request, result }, NOW),
        NOW,
      ),
    ).toMatchObject({ accepted: false, code: 'BAD_SIGNATURE' });
    const wrongSigner = await signBody('receipt', receipt.body, thief.privateKey);
    expect(
      await ingest.submit(
        await signReport(gateway, { type: 'receipt', receipt: wrongSigner, request, result }, NOW),
        NOW,
      ),
    ).toMatchObject({ accepted: false, code: 'BAD_SIGNATURE' });
    // The same receipt forwarded by someone who is not a gateway reporter.
    expect(
      await ingest.submit(await signReport(thief, { type: 'receipt', receipt, request, result }, NOW), NOW),
    ).toMatchObject({ accepted: false, code: 'UNKNOWN_NODE' });
    expect(stored()).toBe(0);
  });

  it('counts a receipt once: its signature re-spelled in base64url (the same 64 bytes) is refused, not new work', async () => {
    // 86 base64url characters carry 516 bits for 64 bytes: the last character's low 4 bits are
    // padding a lenient decoder ignores. A re-spelled signature verifies, yet hashes as another receipt.
    const { ingest, stored } = setup();
    const inputs = tensorsFor([20, 50, 600], 'readings');
    const outputs = tensorsFor([0.1, 0.9]);
    const receipt = await signReceipt(node, { requestId: 'r1', inputs, outputs, issuedAtMs: NOW });
    const request = { kind: 'tensors', modelName: 'comfort-index', modelVersion: '1', inputs };
    const result = { kind: 'tensors', outputs };
    const report = (r: typeof receipt) =>
      signReport(gateway, { type: 'receipt', receipt: r, request, result }, NOW);
    expect((await ingest.submit(await report(receipt), NOW)).accepted).toBe(true);
    // Nor with an unsigned key added beside the signature.
    const padded = { ...receipt, note: 'again' };
    expect((await ingest.submit(await report(padded), NOW)).accepted).toBe(false);
    for (const signature of respellings(receipt.signature).slice(0, 3)) {
      expect(await ingest.submit(await report({ ...receipt, signature }), NOW)).toMatchObject({
        accepted: false,
      });
    }
    expect(stored()).toBe(1);
  });

  it('refuses a reports body over 8 MiB with 413', async () => {
    const env = makeOracle({ oracleKeys: oracle, nowMs: NOW });
    const app = createOracleApp({
      oracle: env.oracle,
      oracleId: oracle.nodeId,
      store: env.store,
      nowMs: () => NOW,
    });
    const res = await app.request('/v1/oracle/reports', {
      method: 'POST',
      body: `{"body":"${'x'.repeat(MAX_REPORTS_BODY_BYTES)}"}`,
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('PAYLOAD_TOO_LARGE');
  });
});

describe('latency challenges, responses and probes', () => {
  it('a node answers only a correctly signed challenge addressed to it', async () => {
    const challenge = await createChallenge({ challenger: oracle, targetNodeId: node.nodeId, nowMs: NOW });
    expect(await answerChallenge({ ...challenge, signature: flip(challenge.signature) }, node)).toBeNull();
    expect(
      await answerChallenge({ ...challenge, body: { ...challenge.body, nonce: 'B'.repeat(22) } }, node),
    ).toBeNull();
    expect(await answerChallenge(challenge, thief)).toBeNull();
    expect(
      await answerChallenge(await signBody('report', challenge.body, thief.privateKey), node),
    ).toBeNull();
    expect(await answerChallenge(challenge, node)).not.toBeNull();
  });

  it('refuses a response with a flipped byte, from the wrong key, or replayed for another challenge', async () => {
    const challenge = await createChallenge({ challenger: oracle, targetNodeId: node.nodeId, nowMs: NOW });
    const response = (await answerChallenge(challenge, node))!;
    expect(await isValidChallengeResponse(response, challenge.body)).toBe(true);
    expect(
      await isValidChallengeResponse({ ...response, signature: flip(response.signature) }, challenge.body),
    ).toBe(false);
    expect(
      await isValidChallengeResponse(
        await signBody('challenge-response', response.body, thief.privateKey),
        challenge.body,
      ),
    ).toBe(false);
    // A response captured earlier cannot answer a new challenge: the nonce differs.
    const next = await createChallenge({ challenger: oracle, targetNodeId: node.nodeId, nowMs: NOW + 1000 });
    expect(await isValidChallengeResponse(response, next.body)).toBe(false);
    // A relay (a node answering for another, nearer one) would need the target's key.
    const relayed = await signBody(
      'challenge-response',
      { ...response.body, nodeId: node.nodeId },
      thief.privateKey,
    );
    expect(await isValidChallengeResponse(relayed, challenge.body)).toBe(false);
  });

  it('a challenger refuses a probe with a flipped byte, from an oracle it does not know, or replayed after 30 s', async () => {
    const probe = await createProbe({
      oracle,
      target: { nodeId: hs.nodeId, url: 'http://target.test' },
      nowMs: NOW,
    });
    const fetchNever = (() => Promise.reject(new Error('must not be called'))) as never;
    const options = {
      node,
      location: { lat: 52, lng: 5 },
      oracleIds: [oracle.nodeId],
      fetch: fetchNever,
      nowMs: NOW,
    };
    expect(await answerProbe({ ...probe, signature: flip(probe.signature) }, options)).toBeNull();
    expect(await answerProbe(await signBody('report', probe.body, thief.privateKey), options)).toBeNull();
    expect(await answerProbe(probe, { ...options, oracleIds: [thief.nodeId] })).toBeNull();
    expect(await answerProbe(probe, { ...options, nowMs: NOW + 30_001 })).toBeNull();
  });
});
