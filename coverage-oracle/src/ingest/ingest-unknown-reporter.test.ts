import { REPORTER_NOT_KNOWN, type NodeKeyPair } from '@hexedge/protocol';
import { beforeAll, describe, expect, it } from 'vitest';
import { BEACONER_CELL, hotspot } from '../../test/fixtures/poc.ts';
import { keys, signReceipt, signReport, tensorsFor } from '../../test/fixtures/reports.ts';
import { MemoryDirectory } from '../directory.ts';
import { MemoryOracleStore } from '../store/memory-store.ts';
import { Ingest } from './ingest.ts';

/** A report from a gateway the directory does not know yet: the directory is asked to learn, then the report judged. */
const NOW = Date.UTC(2025, 5, 1, 12);
let gateway: NodeKeyPair, node: NodeKeyPair, hs: NodeKeyPair;
let receiptBody: Record<string, unknown>;

/** A directory that learns `learns` (a gateway's report key) when asked to refresh, counting the asks. */
class LearningDirectory extends MemoryDirectory {
  asks = 0;
  readonly learns: string | undefined;
  constructor(learns?: string) {
    super();
    this.learns = learns;
  }
  async refreshReporters(): Promise<void> {
    this.asks++;
    if (this.learns) this.putReporter({ nodeId: this.learns, roles: ['gateway'] });
  }
}

function setup(directory: LearningDirectory) {
  return new Ingest({ store: new MemoryOracleStore(), directory });
}

beforeAll(async () => {
  [gateway, node, hs] = await keys(3);
  const receipt = await signReceipt(node, {
    requestId: 'r',
    inputs: tensorsFor([1]),
    outputs: tensorsFor([2]),
    issuedAtMs: NOW,
  });
  receiptBody = {
    type: 'receipt',
    receipt,
    request: { kind: 'tensors', modelName: 'm', modelVersion: '1', inputs: tensorsFor([1]) },
    result: { kind: 'tensors', outputs: tensorsFor([2]) },
  };
});

describe('Ingest: a gateway reporter not known yet', () => {
  it('asks the directory to learn, then accepts every report of the batch', async () => {
    const directory = new LearningDirectory(gateway.nodeId);
    const ingest = setup(directory);
    const reports = await Promise.all([1, 2, 3].map(() => signReport(gateway, receiptBody, NOW)));
    const results = await ingest.submitBatch(reports, NOW);
    expect(results.map((r) => r.accepted)).toEqual([true, true, true]);
    // Each report judged before the gateway was learnt asks (the service's gate makes them share one read).
    const asks = directory.asks;
    expect(asks).toBeGreaterThanOrEqual(1);
    expect(asks).toBeLessThanOrEqual(3);
    // Known now: the next report does not ask.
    expect((await ingest.submit(await signReport(gateway, receiptBody, NOW), NOW)).accepted).toBe(true);
    expect(directory.asks).toBe(asks);
  });

  it('refuses a reporter still unknown after the read, as UNKNOWN_NODE with the reason REPORTER_NOT_KNOWN', async () => {
    const directory = new LearningDirectory();
    const result = await setup(directory).submit(await signReport(gateway, receiptBody, NOW), NOW);
    expect(result).toEqual({
      accepted: false,
      code: 'UNKNOWN_NODE',
      message: `${gateway.nodeId} is not a known receipt reporter`,
      reason: REPORTER_NOT_KNOWN,
    });
    expect(directory.asks).toBe(1);
  });

  it('never asks for a report whose signature does not verify (a forged reporter id costs no read)', async () => {
    const directory = new LearningDirectory(gateway.nodeId);
    const signed = await signReport(gateway, receiptBody, NOW);
    const result = await setup(directory).submit({ ...signed, signature: 'A'.repeat(86) }, NOW);
    expect(result).toMatchObject({ accepted: false, code: 'BAD_SIGNATURE' });
    expect(directory.asks).toBe(0);
  });

  it('asks only for reporters a read can teach (gateways), not for an unknown hotspot', async () => {
    const directory = new LearningDirectory();
    directory.putHotspot(hotspot(hs.nodeId, BEACONER_CELL));
    const beacon = {
      type: 'beacon',
      entropyId: 'e1',
      beacon: { data: 'YmVhY29u', frequencyHz: 868_100_000, datarate: 'SF9BW125', txPowerDbm: 27 },
    };
    const result = await setup(directory).submit(await signReport(gateway, beacon, NOW), NOW);
    expect(result).toMatchObject({ accepted: false, code: 'UNKNOWN_NODE', reason: REPORTER_NOT_KNOWN });
    expect(directory.asks).toBe(0);
  });

  it('a refusal of the report itself carries no reason (the forwarder does not send it again)', async () => {
    const directory = new LearningDirectory(gateway.nodeId);
    const ingest = setup(directory);
    const signed = await signReport(gateway, receiptBody, NOW);
    expect((await ingest.submit(signed, NOW)).accepted).toBe(true);
    const replayed = await ingest.submit(signed, NOW + 10);
    expect(replayed).toMatchObject({ accepted: false, code: 'REPLAYED' });
    expect(replayed).not.toHaveProperty('reason');
  });
});
