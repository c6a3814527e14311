import { beforeAll, describe, expect, it } from 'vitest';
import type { NodeKeyPair } from '@hexedge/protocol';
import { makeOracle } from './fixtures/oracle.ts';
import { keys, MODEL, signReceipt, signReport, tensorsFor } from './fixtures/reports.ts';

/*
 * A region-bound API key's answers leave the gateway as digests only (its raw inputs and outputs stay
 * in its region): the oracle counts the receipt as work, and never re-runs it on a checker elsewhere.
 */
const NOW = Date.UTC(2025, 5, 1, 12, 30);
let oracleKeys: NodeKeyPair, gateway: NodeKeyPair, node: NodeKeyPair, checker: NodeKeyPair;

beforeAll(async () => {
  [oracleKeys, gateway, node, checker] = await keys(4);
});

describe('digest-only receipts of region-bound keys', () => {
  it('are work, and are never sent to a checker, even when every receipt is sampled', async () => {
    const reRuns: string[] = [];
    const env = makeOracle({
      oracleKeys,
      nowMs: NOW,
      reRun: async (n) => {
        reRuns.push(n.nodeId);
        throw new Error('a region-bound request must not be re-run');
      },
      config: { samplingRate: 1, epochMs: 3_600_000 },
    });
    env.directory.putReporter({ nodeId: gateway.nodeId, roles: ['gateway'] });
    for (const k of [node, checker])
      env.directory.putNode({
        nodeId: k.nodeId,
        location: { lat: 52, lng: 5 },
        url: 'http://n',
        models: [MODEL.modelName],
      });
    const reports = await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        const inputs = tensorsFor([i, i + 1], 'readings');
        const receipt = await signReceipt(node, {
          requestId: `eu-${i}`,
          inputs,
          outputs: tensorsFor([2 * i]),
          issuedAtMs: NOW,
        });
        const body = {
          type: 'receipt',
          receipt,
          request: { kind: 'digests', modelName: MODEL.modelName, modelVersion: MODEL.modelVersion },
          result: { kind: 'digests' },
        };
        return signReport(gateway, body, NOW);
      }),
    );
    expect((await env.oracle.ingest.submitBatch(reports, NOW)).every((r) => r.accepted)).toBe(true);
    await env.oracle.tick(NOW);
    expect(reRuns).toEqual([]);
    expect(env.store.listWork({ sinceMs: 0, untilMs: Infinity })).toHaveLength(10);
    expect(env.store.listVerdicts({ nodeId: node.nodeId }).filter((v) => v.kind === 'spot-check')).toEqual(
      [],
    );
  });
});
