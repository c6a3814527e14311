import { generateNodeKeyPair, signBody, type NodeKeyPair } from '@hexedge/protocol';
import { beforeEach, describe, expect, it } from 'vitest';
import { NodeRegistry } from './node-registry.ts';

const T0 = 1_800_000_000_000;
const MODEL = { name: 'm', version: '1', contentId: 'a'.repeat(64), ready: true };

async function registration(keys: NodeKeyPair, issuedAtMs: number) {
  return signBody(
    'registration',
    {
      nodeId: keys.nodeId,
      issuedAtMs,
      url: 'http://127.0.0.1:9000',
      location: { lat: 52.37, lng: 4.9 },
      hardware: { cpuCores: 2, memoryMb: 1024, executionProviders: ['cpu' as const] },
      models: [MODEL],
    },
    keys.privateKey,
  );
}

const heartbeat = (keys: NodeKeyPair, seq: number, issuedAtMs: number) =>
  signBody('heartbeat', { nodeId: keys.nodeId, seq, issuedAtMs, models: [MODEL] }, keys.privateKey);

describe('NodeRegistry', () => {
  let now = T0;
  let registry: NodeRegistry;
  let keys: NodeKeyPair;
  beforeEach(async () => {
    now = T0;
    registry = new NodeRegistry({ heartbeatIntervalMs: 1000, now: () => now });
    keys = await generateNodeKeyPair();
  });

  it('registers a node with a valid signature and computes its cell', async () => {
    const node = await registry.register(await registration(keys, T0));
    expect(node.id).toBe(keys.nodeId);
    expect(node.cell).toMatch(/^89/);
    expect(registry.statusOf(node)).toBe('healthy');
  });

  it('refuses a registration signed by another key, and changes nothing', async () => {
    const other = await generateNodeKeyPair();
    const forged = await registration(keys, T0);
    forged.signature = (await registration(other, T0)).signature;
    await expect(registry.register(forged)).rejects.toMatchObject({ code: 'BAD_SIGNATURE' });
    expect(registry.size).toBe(0);
  });

  it('accepts increasing heartbeat sequence numbers and refuses a replayed one', async () => {
    await registry.register(await registration(keys, T0));
    const hb5 = await heartbeat(keys, 5, T0);
    await registry.heartbeat(hb5);
    await registry.heartbeat(await heartbeat(keys, 6, T0));
    await expect(registry.heartbeat(hb5)).rejects.toMatchObject({ code: 'REPLAYED' });
    expect(registry.get(keys.nodeId)!.lastSeq).toBe(6);
  });

  it('keeps refusing old sequence numbers after a re-registration', async () => {
    await registry.register(await registration(keys, T0));
    const hb = await heartbeat(keys, 10, T0);
    await registry.heartbeat(hb);
    now += 5;
    await registry.register(await registration(keys, T0 + 5));
    await expect(registry.heartbeat(hb)).rejects.toMatchObject({ code: 'REPLAYED' });
  });

  it('refuses heartbeats from unknown nodes and stale messages', async () => {
    await expect(registry.heartbeat(await heartbeat(keys, 1, T0))).rejects.toMatchObject({ code: 'UNKNOWN_NODE' });
    await expect(registry.register(await registration(keys, T0 - 120_000))).rejects.toMatchObject({
      code: 'STALE_MESSAGE',
    });
  });

  it('marks a node unhealthy after three missed heartbeat intervals', async () => {
    const node = await registry.register(await registration(keys, T0));
    now = T0 + 3000;
    expect(registry.statusOf(node)).toBe('healthy');
    now = T0 + 3001;
    expect(registry.statusOf(node)).toBe('unhealthy');
  });
});
