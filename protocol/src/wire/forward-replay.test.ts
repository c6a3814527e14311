import { describe, expect, it } from 'vitest';
import { generateNodeKeyPair } from '../identity.ts';
import { FORWARD_REPLAY_REFUSAL, ForwardReplayGuard } from './forward-replay.ts';
import { checkForward, MAX_FORWARD_SKEW_MS, signForward } from './forward-signature.ts';

const GATEWAY = 'g'.repeat(43);
const ORACLE = 'o'.repeat(43);
const forward = (n: number, issuedAtMs: number, nowMs = issuedAtMs) => ({
  forwarderId: GATEWAY,
  issuedAtMs,
  route: 'infer',
  modelName: 'comfort-index',
  modelVersion: '1.0.0',
  bodyDigest: n.toString(16).padStart(64, '0'),
  nowMs,
});

describe('ForwardReplayGuard', () => {
  it('takes each forward once inside the window; another body, time, forwarder, route, model or version is another forward', () => {
    const guard = new ForwardReplayGuard();
    const t = 1_000_000;
    expect(guard.admit(forward(1, t))).toEqual({ ok: true });
    expect(guard.admit(forward(1, t, t + 59_000))).toEqual({
      ok: false,
      refusal: 'replayed',
      reason: `this request from ${GATEWAY}, forwarded at ${t}, ${FORWARD_REPLAY_REFUSAL}`,
    });
    expect(guard.admit(forward(2, t)).ok).toBe(true);
    expect(guard.admit(forward(1, t + 1)).ok).toBe(true);
    expect(guard.admit({ ...forward(1, t), forwarderId: ORACLE }).ok).toBe(true);
    expect(guard.admit({ ...forward(1, t), route: 'predict' }).ok).toBe(true);
    expect(guard.admit({ ...forward(1, t), modelName: 'other' }).ok).toBe(true);
    expect(guard.admit({ ...forward(1, t), modelVersion: '2.0.0' }).ok).toBe(true);
    expect(guard.size).toBe(7);
  });

  it('forgets forwards the freshness check would refuse anyway, as time moves on', () => {
    const guard = new ForwardReplayGuard();
    const t = 1_000_000;
    for (let i = 0; i < 100; i++) guard.admit(forward(i, t + i));
    expect(guard.size).toBe(100);
    // A minute and a bit later the first 50 are outside the window: dropped as the next request comes.
    guard.admit(forward(1_000, t + 50 + MAX_FORWARD_SKEW_MS, t + 50 + MAX_FORWARD_SKEW_MS));
    expect(guard.size).toBe(51);
    expect(guard.horizonMsOf(GATEWAY)).toBe(-Infinity);
  });

  it('is bounded without forgetting unsafely: past maxEntries an evicted forward and anything as old is refused, newer ones served', () => {
    const guard = new ForwardReplayGuard({ maxEntries: 10 });
    const t = 5_000;
    for (let i = 0; i < 25; i++) expect(guard.admit(forward(i, t + i)).ok).toBe(true);
    expect(guard.size).toBe(10);
    // Forward 3 was forgotten to make room: its replay is still refused, as is any unseen forward that old.
    expect(guard.horizonMsOf(GATEWAY)).toBe(t + 14);
    for (const n of [3, 14, 99])
      expect(guard.admit(forward(n, n === 99 ? t + 14 : t + n))).toMatchObject({
        ok: false,
        refusal: 'older-than-memory',
        reason: expect.stringContaining(`refuses those forwarded at or before ${t + 14}`),
      });
    expect(guard.admit(forward(24, t + 24))).toMatchObject({ ok: false, refusal: 'replayed' });
    expect(guard.admit(forward(99, t + 15)).ok).toBe(true);
    // The horizon is the forwarder's own: another forwarder's forward of that time is served.
    expect(guard.admit({ ...forward(3, t + 3), forwarderId: ORACLE }).ok).toBe(true);
    expect(guard.size).toBe(10);
  });

  it('stays bounded and correct over many windows of traffic (the arrival queue compacts)', () => {
    const guard = new ForwardReplayGuard({ maxEntries: 1_000 });
    let refused = 0;
    // 20 000 forwards, 10 per ms: the guard is full most of the time; each is new exactly once.
    for (let i = 0; i < 20_000; i++) {
      const atMs = 1_000_000 + Math.floor(i / 10);
      if (!guard.admit(forward(i, atMs)).ok) refused++;
      if (i % 97 === 0) expect(guard.admit(forward(i, atMs)).ok).toBe(false);
    }
    expect(refused).toBe(0);
    expect(guard.size).toBe(1_000);
  });

  it('checkForward refuses a replayed signed forward as a replay, and only a genuine forward is remembered', async () => {
    const gateway = await generateNodeKeyPair();
    const node = await generateNodeKeyPair();
    const target = {
      targetNodeId: node.nodeId,
      route: 'infer' as const,
      modelName: 'comfort-index',
      modelVersion: '1.0.0',
    };
    const body = '{"id":"1","inputs":[]}';
    const nowMs = 1_700_000_000_000;
    const headers = await signForward({ ...target, keys: gateway, body, nowMs });
    const replays = new ForwardReplayGuard();
    const check = (b: string) =>
      checkForward({
        ...target,
        header: (name) => headers[name],
        body: b,
        isKnown: (id) => id === gateway.nodeId,
        nowMs: nowMs + 5,
        replays,
      });
    // A changed body fails the signature before the guard: nothing remembered.
    expect((await check(body.replace('1', '2'))).ok).toBe(false);
    expect(replays.size).toBe(0);
    expect(await check(body)).toEqual({ ok: true, forwarderId: gateway.nodeId });
    expect(await check(body)).toEqual({
      ok: false,
      replay: 'replayed',
      reason: `this request from ${gateway.nodeId}, forwarded at ${nowMs}, ${FORWARD_REPLAY_REFUSAL}`,
    });
  });
});
