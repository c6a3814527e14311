import { beforeAll, describe, expect, it } from 'vitest';
import type { NodeKeyPair } from '@hexedge/protocol';
import { BEACONER_CELL, hotspot } from '../../test/fixtures/poc.ts';
import { keys, signReceipt, signReport, tensorsFor } from '../../test/fixtures/reports.ts';
import { MemoryDirectory } from '../directory.ts';
import { MemoryOracleStore } from '../store/memory-store.ts';
import { Ingest, MAX_CLOCK_SKEW_MS, MAX_REPORT_AGE_MS } from './ingest.ts';

const NOW = Date.UTC(2025, 5, 1, 12);
let hs: NodeKeyPair, gateway: NodeKeyPair, stranger: NodeKeyPair, node: NodeKeyPair;
const beaconBody = {
  type: 'beacon',
  entropyId: 'e1',
  beacon: { data: 'YmVhY29u', frequencyHz: 868_100_000, datarate: 'SF9BW125', txPowerDbm: 27 },
};

function setup() {
  const directory = new MemoryDirectory();
  directory.putHotspot(hotspot(hs.nodeId, BEACONER_CELL));
  directory.putReporter({ nodeId: gateway.nodeId, roles: ['gateway'] });
  const store = new MemoryOracleStore();
  return { store, ingest: new Ingest({ store, directory }) };
}

beforeAll(async () => {
  [hs, gateway, stranger, node] = await keys(4);
});

describe('Ingest', () => {
  it('accepts a signed, fresh beacon from an asserted hotspot and stamps it with the oracle clock', async () => {
    const { ingest, store } = setup();
    const result = await ingest.submit(await signReport(hs, beaconBody, NOW - 1000), NOW);
    expect(result).toEqual({ accepted: true, seq: 1, type: 'beacon' });
    expect(store.listReports({ afterSeq: 0, limit: 10 })[0]).toMatchObject({
      receivedAtMs: NOW,
      roundKey: 'poc:YmVhY29u',
      nodeId: hs.nodeId,
    });
  });

  it('refuses a bad signature', async () => {
    const { ingest } = setup();
    const signed = await signReport(hs, beaconBody, NOW);
    const tampered = {
      ...signed,
      body: { ...signed.body, beacon: { ...beaconBody.beacon, txPowerDbm: 30 } },
    };
    expect(await ingest.submit(tampered, NOW)).toMatchObject({ accepted: false, code: 'BAD_SIGNATURE' });
    expect(await ingest.submit({ ...signed, signature: 'A'.repeat(86) }, NOW)).toMatchObject({
      accepted: false,
      code: 'BAD_SIGNATURE',
    });
  });

  it('refuses a replayed nonce, also within one batch', async () => {
    const { ingest } = setup();
    const signed = await signReport(hs, beaconBody, NOW);
    expect((await ingest.submit(signed, NOW)).accepted).toBe(true);
    expect(await ingest.submit(signed, NOW + 10)).toMatchObject({ accepted: false, code: 'REPLAYED' });
    const again = await signReport(hs, beaconBody, NOW);
    const results = await ingest.submitBatch([again, again], NOW);
    expect(results.map((r) => r.accepted)).toEqual([true, false]);
  });

  it('refuses reports from far in the future or the past', async () => {
    const { ingest } = setup();
    expect(
      await ingest.submit(await signReport(hs, beaconBody, NOW + MAX_CLOCK_SKEW_MS + 1), NOW),
    ).toMatchObject({ code: 'STALE_MESSAGE', message: expect.stringMatching(/future/) });
    expect(
      await ingest.submit(await signReport(hs, beaconBody, NOW - MAX_REPORT_AGE_MS - 1), NOW),
    ).toMatchObject({ code: 'STALE_MESSAGE', message: expect.stringMatching(/old/) });
    expect(
      (await ingest.submit(await signReport(hs, beaconBody, NOW + MAX_CLOCK_SKEW_MS), NOW)).accepted,
    ).toBe(true);
  });

  it('refuses unknown reporters, and reporters outside their role', async () => {
    const { ingest } = setup();
    expect(await ingest.submit(await signReport(stranger, beaconBody, NOW), NOW)).toMatchObject({
      code: 'UNKNOWN_NODE',
    });
    const receipt = await signReceipt(node, {
      requestId: 'r',
      inputs: tensorsFor([1]),
      outputs: tensorsFor([2]),
      issuedAtMs: NOW,
    });
    const receiptBody = {
      type: 'receipt',
      receipt,
      request: { kind: 'tensors', modelName: 'm', modelVersion: '1', inputs: tensorsFor([1]) },
      result: { kind: 'tensors', outputs: tensorsFor([2]) },
    };
    expect(await ingest.submit(await signReport(hs, receiptBody, NOW), NOW)).toMatchObject({
      code: 'UNKNOWN_NODE',
    });
    expect((await ingest.submit(await signReport(gateway, receiptBody, NOW), NOW)).accepted).toBe(true);
    // A forwarded receipt whose own signature is broken is refused too.
    const forged = { ...receiptBody, receipt: { ...receipt, body: { ...receipt.body, serviceTimeMs: 1 } } };
    expect(await ingest.submit(await signReport(gateway, forged, NOW), NOW)).toMatchObject({
      code: 'BAD_SIGNATURE',
      message: expect.stringMatching(/receipt/),
    });
  });

  it.each([
    [
      'a frequency as a string',
      { beacon: { ...beaconBody.beacon, frequencyHz: '868100000' } },
      /frequencyHz/,
    ],
    ['a fractional frequency', { beacon: { ...beaconBody.beacon, frequencyHz: 868.1 } }, /frequencyHz/],
    ['an absurd tx power', { beacon: { ...beaconBody.beacon, txPowerDbm: 1e9 } }, /txPowerDbm/],
    ['a negative issuedAtMs', { issuedAtMs: -5 }, /issuedAtMs/],
    ['a short nonce', { nonce: 'abc' }, /nonce/],
    ['an unknown type', { type: 'gossip' }, /type/],
  ])('refuses malformed numbers and shapes: %s', async (_name, patch, field) => {
    const { ingest, store } = setup();
    const result = await ingest.submit(await signReport(hs, { ...beaconBody, ...patch }, NOW), NOW);
    expect(result).toMatchObject({
      accepted: false,
      code: 'INVALID_REQUEST',
      message: expect.stringMatching(field),
    });
    expect(store.listReports({ afterSeq: 0, limit: 10 })).toEqual([]);
  });

  it('refuses junk that is not a report at all', async () => {
    const { ingest } = setup();
    for (const junk of [null, 42, 'x', {}, { body: {}, signature: 1 }])
      expect(await ingest.submit(junk, NOW)).toMatchObject({ code: 'INVALID_REQUEST' });
  });

  it('takes a node challenger’s location report only as an answer to the oracle’s probe; a configured challenger’s always', async () => {
    const directory = new MemoryDirectory();
    directory.putReporter({ nodeId: node.nodeId, location: { lat: 52, lng: 5 }, roles: ['challenger'] });
    directory.putReporter({
      nodeId: stranger.nodeId,
      location: { lat: 52, lng: 5 },
      roles: ['challenger'],
      trusted: true,
    });
    const ingest = new Ingest({ store: new MemoryOracleStore(), directory });
    const body = { type: 'location', targetNodeId: gateway.nodeId, answered: false };
    expect(await ingest.submit(await signReport(node, body, NOW), NOW)).toMatchObject({
      accepted: false,
      code: 'FORBIDDEN',
    });
    expect(
      (await ingest.submitBatch([await signReport(node, body, NOW)], NOW, { solicited: true }))[0],
    ).toMatchObject({ accepted: true });
    expect(await ingest.submit(await signReport(stranger, body, NOW), NOW)).toMatchObject({ accepted: true });
  });
});
