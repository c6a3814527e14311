import { exportKeyPair, generateNodeKeyPair, type NodeKeyPair } from '@hexedge/protocol';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  buildComfortIndexModel,
  comfortIndexManifest,
  createOipApp,
  MAX_CHALLENGE_BODY_BYTES,
  MAX_OIP_BODY_BYTES,
  ModelSet,
} from '../src/index.ts';
import { OrtNodeBackend, readModelDir, writeModel } from '../src/node/index.ts';

/*
 * The edge node's front door: every POST body over its limit is refused with 413 before it is
 * parsed, and nothing the node writes to its console during inference, refusals and challenges
 * carries its private key.
 */

const dir = mkdtempSync(path.join(os.tmpdir(), 'hexedge-oip-sec-'));
let app: ReturnType<typeof createOipApp>;
let keys: NodeKeyPair;

beforeAll(async () => {
  const bytes = buildComfortIndexModel();
  await writeModel({ dir, manifest: await comfortIndexManifest(bytes), bytes });
  const models = new ModelSet({ scheduler: { maxQueueDelayUs: 500 } });
  const backend = await OrtNodeBackend.create();
  for (const a of (await readModelDir(dir)).artifacts) models.add(await backend.load(a));
  keys = await generateNodeKeyPair();
  app = createOipApp({ models, keys, isReady: () => true, oracle: { answerChallenge: async () => null } });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('edge node size limits', () => {
  it.each([
    ['/v2/models/comfort-index/infer', MAX_OIP_BODY_BYTES],
    ['/v2/models/comfort-index/versions/1/infer', MAX_OIP_BODY_BYTES],
    ['/v2/models/comfort-index/predict', MAX_OIP_BODY_BYTES],
    ['/v1/oracle/challenge', MAX_CHALLENGE_BODY_BYTES],
    ['/v1/oracle/probe', MAX_CHALLENGE_BODY_BYTES],
  ])('POST %s over %i bytes → 413', async (url, limit) => {
    const res = await app.request(url, {
      method: 'POST',
      body: `{"pad":"${'x'.repeat(limit)}"}`,
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { code: string }).code).toBe('PAYLOAD_TOO_LARGE');
  });
});

describe('edge node logs', () => {
  it('never print the node’s private key', async () => {
    const lines: string[] = [];
    const spies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((m) =>
      vi
        .spyOn(console, m)
        .mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(' '))),
    );
    try {
      const post = (url: string, body: string) =>
        app.request(url, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
      expect(
        (
          await post(
            '/v2/models/comfort-index/infer',
            JSON.stringify({
              inputs: [{ name: 'readings', datatype: 'FP32', shape: [1, 3], data: [22, 45, 600] }],
            }),
          )
        ).status,
      ).toBe(200);
      await post('/v2/models/comfort-index/infer', '{"inputs":');
      await post('/v1/oracle/challenge', '{}');
      await post('/v2/models/nope/infer', '{}');
    } finally {
      spies.forEach((s) => s.mockRestore());
    }
    const { privateKeyPkcs8 } = await exportKeyPair(keys);
    expect(lines.join('\n')).not.toContain(privateKeyPkcs8);
  });
});
