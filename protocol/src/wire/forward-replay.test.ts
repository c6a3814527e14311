import { describe, expect, it } from 'vitest';
import { ForwardReplayGuard } from './forward-replay.ts';
import { MAX_FORWARD_SKEW_MS } from './forward-signature.ts';

const GATEWAY = 'g'.repeat(43);
const forward = (n: number, issuedAtMs: number, nowMs = issuedAtMs) => ({
  forwarderId: GATEWAY,
  issuedAtMs,
  bodyDigest: n.toString(16).padStart(64, '0'),
  nowMs,
});

describe('ForwardReplayGuard', () => {
  it('takes each forward once inside the window; another body, time or forwarder is another forward', () => {
    const guard = new ForwardReplayGuard();
    const t = 1_000_000;
    expect(guard.firstTime(forward(1, t))).toBe(true);
    expect(guard.firstTime(forward(1, t, t + 59_000))).toBe(false);
    expect(guard.firstTime(forward(2, t))).toBe(true);
    expect(guard.firstTime(forward(1, t + 1))).toBe(true);
    expect(guard.firstTime({ ...forward(1, t), forwarderId: 'o'.repeat(43) })).toBe(true);
  });

  it('forgets forwards the freshness check would refuse anyway, as time moves on', () => {
    const guard = new ForwardReplayGuard();
    const t = 1_000_000;
    for (let i = 0; i < 100; i++) guard.firstTime(forward(i, t + i));
    expect(guard.size).toBe(100);
    // A minute and a bit later the first 50 are outside the window: dropped as the next request comes.
    guard.firstTime(forward(1_000, t + 50 + MAX_FORWARD_SKEW_MS, t + 50 + MAX_FORWARD_SKEW_MS));
    expect(guard.size).toBe(51);
  });

  it('is bounded: past maxEntries the oldest are forgotten', () => {
    const guard = new ForwardReplayGuard({ maxEntries: 10 });
    for (let i = 0; i < 25; i++) guard.firstTime(forward(i, 5_000));
    expect(guard.size).toBe(10);
    expect(guard.firstTime(forward(24, 5_000))).toBe(false);
  });
});
