import fc from 'fast-check';
import { ERROR_CODES, type NodeKeyPair } from '@hexedge/protocol';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { createOracleApp, Ingest, MemoryDirectory, MemoryOracleStore, parseOracleConfig } from '../src/index.ts';
import { BEACONER_CELL, hotspot } from './fixtures/poc.ts';
import { makeOracle } from './fixtures/oracle.ts';
import { keys, MODEL, signReceipt, signReport, tensorsFor } from './fixtures/reports.ts';
import { assertNoPollution, bounded, corpusText, isErrorCode, loadCorpus, maybeNasty, nastyJson, nastyNumber, nastyString, shown, toJsonText, withinMs } from '@hexedge/protocol/testing';

/*
 * Properties: `Ingest.submit` answers every report — any shape, every report type with its fields
 * swapped for nasty values and then signed for real — with `{ accepted: true }` or a refusal naming
 * a HexEdgeError code; it never throws, and a refusal stores nothing. The HTTP front door answers
 * any body with 202 or the refusal's status. `parseOracleConfig` returns a config or throws a
 * HexEdgeError for any value.
 */

const NOW = Date.UTC(2025, 5, 1, 12);
let hs: NodeKeyPair, gateway: NodeKeyPair, bridge: NodeKeyPair, challenger: NodeKeyPair, node: NodeKeyPair;

beforeAll(async () => {
  [hs, gateway, bridge, challenger, node] = await keys(5);
});

function setup() {
  const directory = new MemoryDirectory();
  directory.putHotspot(hotspot(hs.nodeId, BEACONER_CELL));
  directory.putReporter({ nodeId: gateway.nodeId, roles: ['gateway'] });
  directory.putReporter({ nodeId: bridge.nodeId, roles: ['bridge'] });
  directory.putReporter({ nodeId: challenger.nodeId, roles: ['challenger'] });
  const store = new MemoryOracleStore();
  return { store, ingest: new Ingest({ store, directory }) };
}
const stored = (store: MemoryOracleStore) => JSON.stringify(store.listReports({ afterSeq: 0, limit: 100_000 }));

const freq = maybeNasty(fc.constantFrom(868_100_000, 99_999_999, 3_000_000_001, 868_100_000.5));
const dbm = maybeNasty(fc.oneof(fc.double({ min: -250, max: 50, noNaN: true }), nastyNumber));
const tensor = fc.record({ name: maybeNasty(fc.constant('readings')), datatype: maybeNasty(fc.constantFrom('FP32', 'BYTES', 'X')), shape: maybeNasty(fc.array(fc.integer({ min: -1, max: 4 }), { maxLength: 3 })), data: maybeNasty(fc.array(nastyNumber, { maxLength: 4 })) });
const bodies = {
  beacon: fc.record({ type: fc.constant('beacon'), entropyId: maybeNasty(fc.constant('e1')), beacon: maybeNasty(fc.record({ data: maybeNasty(fc.constantFrom('YmVhY29u', '', 'not base64!', 'A'.repeat(513))), frequencyHz: freq, datarate: maybeNasty(fc.constant('SF9BW125')), txPowerDbm: dbm })) }),
  witness: fc.record({ type: fc.constant('witness'), witness: maybeNasty(fc.record({ data: maybeNasty(fc.constant('YmVhY29u')), frequencyHz: freq, datarate: maybeNasty(fc.constant('SF9BW125')), signalDbm: dbm, snrDb: dbm })) }),
  uplink: fc.record({ type: fc.constant('uplink'), uplink: maybeNasty(fc.record({ location: maybeNasty(fc.record({ lat: dbm, lng: dbm })), frequencyHz: freq, heardBy: maybeNasty(fc.array(fc.record({ hotspotKey: maybeNasty(fc.constant('hotspot-key')), signalDbm: dbm, snrDb: dbm }), { maxLength: 3 })) })) }),
  location: fc.record({ type: fc.constant('location'), targetNodeId: maybeNasty(fc.constant('node')), answered: maybeNasty(fc.boolean()), rttMs: maybeNasty(fc.oneof(fc.double({ min: -1, max: 70_000, noNaN: true }), nastyNumber)), response: nastyJson }, { requiredKeys: ['type', 'targetNodeId', 'answered'] }),
  receipt: fc.record({ type: fc.constant('receipt'), request: maybeNasty(fc.record({ kind: maybeNasty(fc.constantFrom('tensors', 'domain')), modelName: maybeNasty(fc.constant(MODEL.modelName)), modelVersion: maybeNasty(fc.constant('1')), inputs: maybeNasty(fc.array(tensor, { maxLength: 2 })), input: nastyJson })), result: maybeNasty(fc.record({ kind: maybeNasty(fc.constantFrom('tensors', 'domain')), outputs: maybeNasty(fc.array(tensor, { maxLength: 2 })), output: nastyJson })) }),
};

/** Fields around the body that every report carries, sometimes nasty. */
const envelope = fc.record({ nonce: fc.oneof(fc.constant(undefined), nastyString), issuedAtMs: fc.oneof(fc.integer({ min: -400_000, max: 60_000 }).map((d) => NOW + d), nastyNumber) });

async function signAs(kind: keyof typeof bodies, body: Record<string, unknown>, env: { nonce: unknown; issuedAtMs: unknown }) {
  const reporter = { beacon: hs, witness: hs, uplink: bridge, location: challenger, receipt: gateway }[kind];
  const extra: Record<string, unknown> = {};
  if (kind === 'location' && body.targetNodeId === 'node') extra.targetNodeId = node.nodeId;
  if (kind === 'receipt') extra.receipt = await signReceipt(node, { requestId: 'r1', inputs: tensorsFor([20, 50, 600], 'readings'), outputs: tensorsFor([0.1, 0.9]), issuedAtMs: NOW });
  let plain: Record<string, unknown>;
  try {
    plain = JSON.parse(toJsonText({ ...body, ...extra })) as Record<string, unknown>;
  } catch {
    plain = { ...body, ...extra };
  }
  try {
    return await signReport(reporter, { ...plain, ...(env.nonce !== undefined ? { nonce: env.nonce } : {}), issuedAtMs: env.issuedAtMs }, NOW);
  } catch {
    return { body: { ...plain, nodeId: reporter.nodeId }, signature: 'A'.repeat(86) };
  }
}

function expectResult(result: { accepted: boolean; code?: unknown }, context: string) {
  if (!result.accepted) expect(isErrorCode(result.code), `${context}: ${String(result.code)}`).toBe(true);
}

describe('fuzz: oracle ingest', () => {
  it('accepts or refuses every signed report of every type, storing nothing it refuses', async () => {
    const { store, ingest } = setup();
    const report = fc.oneof(...(Object.keys(bodies) as (keyof typeof bodies)[]).map((k) => fc.tuple(fc.constant(k), bodies[k] as fc.Arbitrary<Record<string, unknown>>)));
    await fc.assert(
      fc.asyncProperty(report, envelope, async ([kind, body], env) => {
        const signed = await signAs(kind, body, env);
        const before = stored(store);
        const result = await withinMs(2_000, 'ingest', () => ingest.submit(signed, NOW));
        expectResult(result, shown(signed));
        if (!result.accepted) expect(stored(store), shown(signed)).toBe(before);
        assertNoPollution();
      }),
      bounded(250, 3_000),
    );
  });

  it('refuses any unsigned shape (also in batches) with a code, never a throw', async () => {
    const { store, ingest } = setup();
    await fc.assert(
      fc.asyncProperty(fc.array(nastyJson, { minLength: 1, maxLength: 3 }), async (values) => {
        const parsed = values.map((v) => JSON.parse(toJsonText(v)) as unknown);
        const before = stored(store);
        const results = await withinMs(2_000, 'ingest batch', () => ingest.submitBatch(parsed, NOW));
        results.forEach((r) => expectResult(r, shown(values)));
        expect(stored(store)).toBe(before);
        assertNoPollution();
      }),
      bounded(250, 1_000),
    );
  });

  it('answers any POST /v1/oracle/reports body with 202 or the refusal’s status', async () => {
    const oracleKeys = (await keys(1))[0]!;
    const env = makeOracle({ oracleKeys, nowMs: NOW });
    const app = createOracleApp({ oracle: env.oracle, oracleId: oracleKeys.nodeId, store: env.store, nowMs: () => NOW });
    const consoleError = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      await fc.assert(
        fc.asyncProperty(fc.oneof(nastyJson.map(toJsonText), fc.string({ maxLength: 60 })), async (text) => {
          consoleError.mockClear();
          const res = await withinMs(2_000, 'POST reports', async () => app.request('/v1/oracle/reports', { method: 'POST', body: text, headers: { 'content-type': 'application/json' } }));
          expect(res.status, text.slice(0, 200)).not.toBe(500);
          const json = (await res.json()) as { error?: { code: string } };
          if (res.status !== 202) expect(ERROR_CODES[json.error!.code as keyof typeof ERROR_CODES].httpStatus, text.slice(0, 200)).toBe(res.status);
          expect(consoleError).not.toHaveBeenCalled();
        }),
        bounded(200, 1_500),
      );
    } finally {
      consoleError.mockRestore();
    }
  });

  it('parses any config value to a config or a HexEdgeError', () => {
    fc.assert(
      fc.property(fc.oneof(nastyJson, fc.record({ epochMs: nastyNumber, samplingRate: nastyNumber, shares: nastyJson, poolBaseUnits: fc.oneof(nastyString, nastyNumber), modelCostUnits: nastyJson }, { requiredKeys: [] })), (raw) => {
        const value = JSON.parse(toJsonText(raw)) as unknown;
        try {
          parseOracleConfig(value);
        } catch (err) {
          expect((err as { name?: string }).name, shown(raw)).toBe('HexEdgeError');
        }
        assertNoPollution();
      }),
      bounded(300, 1_000),
    );
  });

  it('replays the corpus of nastiest reports', async () => {
    for (const c of loadCorpus(new URL('./corpus/reports.json', import.meta.url))) {
      const { store, ingest } = setup();
      const kind = c.kind as keyof typeof bodies;
      const body = JSON.parse(corpusText(c)) as Record<string, unknown>;
      const signed = c.unsigned ? body : await signAs(kind, body, { nonce: c.nonce, issuedAtMs: (c.issuedAtMs as number | undefined) ?? NOW });
      const result = await ingest.submit(signed, NOW);
      expectResult(result, c.name);
      expect(result.accepted ? 'accepted' : (result as { code: string }).code, c.name).toBe(c.code ?? 'accepted');
      if (!result.accepted) expect(stored(store)).toBe('[]');
      assertNoPollution();
    }
  });
});
