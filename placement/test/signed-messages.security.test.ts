import { generateNodeKeyPair, signBody } from '@hexedge/protocol';
import { describe, expect, it } from 'vitest';
import { MemoryNodeStore, NodeRegistry } from '../src/index.ts';
import { CITIES, heartbeat, MODEL, newTestNode, registration, T0 } from './signed-messages.ts';

/*
 * Every signed message placement takes — registration and heartbeat — with a flipped byte (in the
 * signature or in the body), signed by the wrong key, or replayed (same issuedAtMs, an old sequence
 * number): refused with its code, and the registry and its store unchanged.
 */

async function setup() {
  let now = T0;
  const store = new MemoryNodeStore();
  const registry = new NodeRegistry({ heartbeatIntervalMs: 10_000, now: () => now, store });
  const node = await newTestNode();
  const accepted = await registration(node, { issuedAtMs: now, location: CITIES.amsterdam });
  await registry.register(accepted);
  const snapshot = () => JSON.stringify({ nodes: [...registry.values()], store: [...store.nodes.values()] });
  return { registry, node, accepted, snapshot, tick: (ms: number) => (now += ms), nowMs: () => now };
}

/** Flips one bit of the base64url signature (still 86 valid characters). */
function flipSignature(signature: string, at = 10): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const i = alphabet.indexOf(signature[at]!);
  return signature.slice(0, at) + alphabet[i ^ 1] + signature.slice(at + 1);
}

describe('signed registrations', () => {
  it('refuses a flipped signature byte, a changed body field and a wrong key with BAD_SIGNATURE, changing nothing', async () => {
    const { registry, node, snapshot, tick, nowMs } = await setup();
    tick(1000);
    const fresh = await registration(node, { issuedAtMs: nowMs(), location: CITIES.amsterdam });
    const before = snapshot();
    await expect(registry.register({ ...fresh, signature: flipSignature(fresh.signature) })).rejects.toMatchObject({ code: 'BAD_SIGNATURE' });
    await expect(registry.register({ ...fresh, body: { ...fresh.body, url: 'http://evil.test' } })).rejects.toMatchObject({ code: 'BAD_SIGNATURE' });
    await expect(registry.register({ ...fresh, body: { ...fresh.body, location: CITIES.paris } })).rejects.toMatchObject({ code: 'BAD_SIGNATURE' });
    const thief = await generateNodeKeyPair();
    const spoofed = await signBody('registration', { ...fresh.body, url: 'http://evil.test' }, thief.privateKey);
    await expect(registry.register(spoofed)).rejects.toMatchObject({ code: 'BAD_SIGNATURE' });
    expect(snapshot()).toBe(before);
  });

  it('refuses a replayed registration (same or older issuedAtMs) with REPLAYED, and a stale one with STALE_MESSAGE', async () => {
    const { registry, node, accepted, snapshot, tick, nowMs } = await setup();
    const before = snapshot();
    await expect(registry.register(accepted)).rejects.toMatchObject({ code: 'REPLAYED' });
    tick(61_000);
    await expect(registry.register(accepted)).rejects.toMatchObject({ code: 'STALE_MESSAGE' });
    const old = await registration(node, { issuedAtMs: nowMs() - 61_000, location: CITIES.amsterdam });
    await expect(registry.register(old)).rejects.toMatchObject({ code: 'STALE_MESSAGE' });
    expect(snapshot()).toBe(before);
  });

  it('refuses a second move within the hour (a spoofed location hop) with RATE_LIMITED', async () => {
    const { registry, node, snapshot, tick, nowMs } = await setup();
    tick(1000);
    await registry.register(await registration(node, { issuedAtMs: nowMs(), location: CITIES.frankfurt }));
    expect(registry.get(node.id)!.locationVerified).toBe(false);
    tick(1000);
    const before = snapshot();
    await expect(registry.register(await registration(node, { issuedAtMs: nowMs(), location: CITIES.paris }))).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    expect(snapshot()).toBe(before);
  });

  it('keeps the move limit across an eviction: going silent does not buy a fresh move, also after a restart', async () => {
    const { registry, node, tick, nowMs } = await setup();
    tick(1000);
    await registry.register(await registration(node, { issuedAtMs: nowMs(), location: CITIES.frankfurt }));
    // Silent past the eviction age, then back somewhere else: still within the hour of the last move.
    tick(registry.evictAfterSilentMs + 1000);
    expect(registry.evictSilent()).toEqual([node.id]);
    await expect(registry.register(await registration(node, { issuedAtMs: nowMs(), location: CITIES.paris }))).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    // The memory of the move survives a restart of the registry over the same store.
    const store = new MemoryNodeStore();
    let now = nowMs();
    const first = new NodeRegistry({ heartbeatIntervalMs: 10_000, now: () => now, store });
    const other = await newTestNode();
    await first.register(await registration(other, { issuedAtMs: now, location: CITIES.amsterdam }));
    now += 1000;
    await first.register(await registration(other, { issuedAtMs: now, location: CITIES.berlin }));
    now += first.evictAfterSilentMs + 1000;
    first.evictSilent();
    const restarted = new NodeRegistry({ heartbeatIntervalMs: 10_000, now: () => now, store });
    await expect(restarted.register(await registration(other, { issuedAtMs: now, location: CITIES.zurich }))).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    // Back at the place it left from is no move; an hour after the last move any move is allowed again.
    await restarted.register(await registration(other, { issuedAtMs: now, location: CITIES.berlin }));
    now += 60 * 60_000;
    await restarted.register(await registration(other, { issuedAtMs: now, location: CITIES.zurich }));
  });
});

describe('signed heartbeats', () => {
  it('refuses a flipped signature, a changed field and a wrong key with BAD_SIGNATURE, changing nothing', async () => {
    const { registry, node, snapshot, tick, nowMs } = await setup();
    tick(1000);
    const hb = await heartbeat(node, { issuedAtMs: nowMs() });
    const before = snapshot();
    await expect(registry.heartbeat({ ...hb, signature: flipSignature(hb.signature, 40) })).rejects.toMatchObject({ code: 'BAD_SIGNATURE' });
    await expect(registry.heartbeat({ ...hb, body: { ...hb.body, draining: true } })).rejects.toMatchObject({ code: 'BAD_SIGNATURE' });
    await expect(registry.heartbeat({ ...hb, body: { ...hb.body, seq: hb.body.seq + 1000 } })).rejects.toMatchObject({ code: 'BAD_SIGNATURE' });
    const thief = await generateNodeKeyPair();
    await expect(registry.heartbeat(await signBody('heartbeat', { ...hb.body, models: [] }, thief.privateKey))).rejects.toMatchObject({ code: 'BAD_SIGNATURE' });
    expect(snapshot()).toBe(before);
    await registry.heartbeat(hb);
  });

  it('refuses a replayed sequence number with REPLAYED, also after a re-registration', async () => {
    const { registry, node, snapshot, tick, nowMs } = await setup();
    tick(1000);
    const first = await heartbeat(node, { issuedAtMs: nowMs() });
    await registry.heartbeat(first);
    const before = snapshot();
    await expect(registry.heartbeat(first)).rejects.toMatchObject({ code: 'REPLAYED' });
    const lower = await heartbeat(node, { issuedAtMs: nowMs(), seq: first.body.seq - 1 });
    await expect(registry.heartbeat(lower)).rejects.toMatchObject({ code: 'REPLAYED' });
    expect(snapshot()).toBe(before);
    tick(1000);
    await registry.register(await registration(node, { issuedAtMs: nowMs(), location: CITIES.amsterdam, models: [MODEL] }));
    await expect(registry.heartbeat(first)).rejects.toMatchObject({ code: 'REPLAYED' });
  });

  it('refuses a heartbeat signed with a kind-confusion signature (a registration signature over the same bytes)', async () => {
    const { registry, node, snapshot, tick, nowMs } = await setup();
    tick(1000);
    const hb = await heartbeat(node, { issuedAtMs: nowMs() });
    const asRegistration = await signBody('registration', hb.body as never, node.keys.privateKey);
    const before = snapshot();
    await expect(registry.heartbeat(asRegistration)).rejects.toMatchObject({ code: 'BAD_SIGNATURE' });
    expect(snapshot()).toBe(before);
  });
});
