import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cellToCenterChild, cellToParent, gridRingUnsafe, latLngToCell } from 'h3-js';
import type { NodeKeyPair } from '@hexedge/protocol';
import { exportLogFiles, SqliteOracleStore } from '../src/adapters/node.ts';
import { answerChallenge } from '@hexedge/protocol';
import { LatencyChallenger, locationReportFor } from '@hexedge/protocol';
import { FIBER_KM_PER_MS } from '../src/location/latency-bound.ts';
import { MAX_LOCATION_REPORTS_READ } from '../src/stages/location-reports.ts';
import { findBrokenLogEntry } from '../src/rewards/epoch-log.ts';
import { verifyRewardEntry, verifyRewardManifest } from '../src/rewards/manifest.ts';
import { hotspot } from './fixtures/poc.ts';
import { makeOracle, RecordingSink } from './fixtures/oracle.ts';
import { keys, signReport } from './fixtures/reports.ts';

const EPOCH_MS = 3_600_000;
const EPOCH = 486_000; // mid-2025
const T0 = EPOCH * EPOCH_MS + 600_000;
const dir = mkdtempSync(path.join(tmpdir(), 'oracle-pipeline-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let oracleKeys: NodeKeyPair,
  beaconer: NodeKeyPair,
  witnesses: NodeKeyPair[],
  challengers: NodeKeyPair[],
  computeNode: NodeKeyPair;
const CHALLENGER_PLACES = [
  { lat: 52.37, lng: 4.9 },
  { lat: 51.92, lng: 4.48 },
  { lat: 52.09, lng: 5.12 },
];
const NODE_PLACE = { lat: 52.2, lng: 4.8 };
const beaconCell = latLngToCell(52.0, 5.0, 12);
const witnessCells = gridRingUnsafe(cellToParent(beaconCell, 11), 300)
  .filter((_, i) => i % 97 === 0)
  .slice(0, 3)
  .map((c) => cellToCenterChild(c, 12));

beforeAll(async () => {
  const ks = await keys(9);
  [oracleKeys, beaconer, computeNode] = ks;
  witnesses = ks.slice(3, 6);
  challengers = ks.slice(6, 9);
});

/** Every input of one epoch, signed once so two oracles can be fed identical reports. */
async function epochReports() {
  const beacon = await signReport(
    beaconer,
    {
      type: 'beacon',
      entropyId: 'entropy-1',
      beacon: { data: 'cG9jLWJlYWNvbg', frequencyHz: 868_100_000, datarate: 'SF9BW125', txPowerDbm: 27 },
    },
    T0,
  );
  const heard = await Promise.all(
    witnesses.map((w, i) =>
      signReport(
        w,
        {
          type: 'witness',
          witness: {
            data: 'cG9jLWJlYWNvbg',
            frequencyHz: 868_100_000,
            datarate: 'SF9BW125',
            signalDbm: -118 - i,
            snrDb: -4,
          },
        },
        T0,
      ),
    ),
  );
  const locations = await Promise.all(
    challengers.map(async (c, i) => {
      const km = Math.hypot(
        (CHALLENGER_PLACES[i]!.lat - NODE_PLACE.lat) * 111,
        (CHALLENGER_PLACES[i]!.lng - NODE_PLACE.lng) * 68,
      );
      const rttMs = (2 * km) / FIBER_KM_PER_MS + 1;
      let clock = 0;
      const challenger = new LatencyChallenger({
        keys: c,
        location: CHALLENGER_PLACES[i]!,
        clockMs: () => clock,
        fetch: async (_url, init) => {
          clock += rttMs;
          const answer = await answerChallenge(JSON.parse(init.body), computeNode);
          return { ok: true, status: 200, json: async () => answer };
        },
      });
      const outcome = await challenger.challenge({ nodeId: computeNode.nodeId, url: 'http://node.test' });
      return locationReportFor({ outcome, challenger: c, nowMs: T0 });
    }),
  );
  return { beacon, heard, locations };
}

function setupOracle(file: string, sink = new RecordingSink()) {
  const store = new SqliteOracleStore({ path: path.join(dir, file) });
  const env = makeOracle({
    oracleKeys,
    nowMs: T0,
    store,
    sink,
    config: { epochMs: EPOCH_MS, settleMs: 60_000 },
  });
  env.directory.putHotspot(hotspot(beaconer.nodeId, beaconCell));
  witnesses.forEach((w, i) => env.directory.putHotspot(hotspot(w.nodeId, witnessCells[i]!)));
  challengers.forEach((c, i) =>
    // Fixed challengers the oracle's operator configured: their reports need neither probes nor standing.
    env.directory.putReporter({
      nodeId: c.nodeId,
      location: CHALLENGER_PLACES[i]!,
      roles: ['challenger'],
      trusted: true,
    }),
  );
  env.directory.putNode({
    nodeId: computeNode.nodeId,
    location: NODE_PLACE,
    url: 'http://node.test',
    models: ['comfort-index'],
  });
  env.oracle.publishEntropy({ id: 'entropy-1', startMs: T0 - 5000 });
  return { ...env, store, sink };
}

async function runEpoch(file: string) {
  const env = setupOracle(file);
  const { beacon, heard, locations } = await epochReports();
  expect((await env.oracle.ingest.submit(beacon, T0)).accepted).toBe(true);
  const results = await env.oracle.ingest.submitBatch([...heard, ...locations], T0 + 800);
  expect(results.map((r) => r.accepted)).toEqual([true, true, true, true, true, true]);
  await env.oracle.tick(T0 + 1000); // verify: location proofs; the PoC round is still open
  await env.oracle.tick(T0 + 31_000); // the round has closed
  await env.oracle.tick((EPOCH + 1) * EPOCH_MS + 61_000); // the epoch has settled
  return env;
}

describe('oracle pipeline on SQLite: ingest → verify → score → reward', () => {
  it('judges a PoC round and a location proof, publishes trust, and closes the epoch', async () => {
    const { oracle, store, sink } = await runEpoch('a.sqlite');
    const poc = store.listVerdicts({}).filter((v) => v.kind.startsWith('poc'));
    expect(poc.map((v) => [v.kind, v.status, v.rewardUnit])).toEqual(
      expect.arrayContaining([
        ['poc-beacon', 'valid', 0.75],
        ...witnesses.map(() => ['poc-witness', 'valid', 1]),
      ]),
    );
    expect(
      store.listVerdicts({ nodeId: computeNode.nodeId }).find((v) => v.kind === 'location'),
    ).toMatchObject({ status: 'verified' });
    expect(sink.verified.has(computeNode.nodeId)).toBe(true);
    expect(sink.trust.get(computeNode.nodeId)!.score).toBeGreaterThan(0.5);
    expect(sink.trust.get(beaconer.nodeId)!.reasons.join(' ')).toMatch(/poc 1 valid/);

    // Coverage: the beaconer covers its witnesses' hexes; the verified node its own.
    const covered = oracle.coverage.query({ cell: witnessCells[0]! });
    expect(covered[0]!.nodes[0]).toMatchObject({
      nodeId: beaconer.nodeId,
      sources: ['poc'],
      bestSignalDbm: -118,
    });
    expect(oracle.coverage.query(NODE_PLACE)[0]!.nodes[0]).toMatchObject({
      nodeId: computeNode.nodeId,
      sources: ['latency'],
    });

    const published = oracle.getManifest(EPOCH)!;
    expect(await verifyRewardManifest(published.signed, oracleKeys.nodeId)).toBe(true);
    const total = published.signed.manifest.entries.reduce((s, e) => s + BigInt(e.amountBaseUnits), 0n);
    expect(total + BigInt(published.signed.manifest.unallocatedBaseUnits)).toBe(1_000_000_000n);
    expect(published.signed.manifest.unallocatedBaseUnits).toBe('0');
    const proof = (await oracle.getRewardProof(EPOCH, beaconer.nodeId))!;
    expect(await verifyRewardEntry(proof)).toBe(true);

    const files = await exportLogFiles({ store, dir: path.join(dir, 'export') });
    expect(files.map((f) => path.basename(f))).toEqual([
      `epoch-00${EPOCH}.manifest.json`,
      `epoch-00${EPOCH}.log.json`,
      'log.json',
    ]);
    expect(readFileSync(files[0]!)).toEqual(Buffer.from(published.bytes));
    expect(await findBrokenLogEntry([JSON.parse(readFileSync(files[1]!, 'utf8'))])).toBeNull();
  });

  it("reads a bounded number of a target's location reports per verdict, however long its history", async () => {
    const env = setupOracle('bounded.sqlite');
    const reads: Array<{ key: string; limit: number | undefined }> = [];
    const list = env.store.listRoundReports.bind(env.store);
    env.store.listRoundReports = (key, options) => (
      reads.push({ key, limit: options?.limit }),
      list(key, options)
    );
    const { locations } = await epochReports();
    await env.oracle.ingest.submitBatch(locations, T0 + 800);
    await env.oracle.tick(T0 + 1000);
    const locationReads = reads.filter((r) => r.key.startsWith('loc:'));
    expect(locationReads.length).toBeGreaterThan(0);
    for (const r of locationReads) expect(r.limit).toBeLessThanOrEqual(MAX_LOCATION_REPORTS_READ);
  });

  it('two runs over identical inputs publish byte-identical manifests', async () => {
    const [a, b] = [await runEpoch('b1.sqlite'), await runEpoch('b2.sqlite')];
    expect(
      Buffer.from(a.oracle.getManifest(EPOCH)!.bytes).equals(Buffer.from(b.oracle.getManifest(EPOCH)!.bytes)),
    ).toBe(true);
  });

  it('resumes after a restart: nonces stay spent and the cursor stays put', async () => {
    const first = setupOracle('c.sqlite');
    const { beacon } = await epochReports();
    expect((await first.oracle.ingest.submit(beacon, T0)).accepted).toBe(true);
    await first.oracle.tick(T0 + 100);
    first.store.close();
    const second = setupOracle('c.sqlite');
    expect(await second.oracle.ingest.submit(beacon, T0 + 200)).toMatchObject({
      accepted: false,
      code: 'REPLAYED',
    });
    expect(second.store.getCursor('verify')).toBe(1);
    expect(second.store.listDueRounds({ nowMs: T0 + 60_000, limit: 10 })).toHaveLength(1);
  });
});
