import { HexEdgeError } from '@hexedge/protocol';
import { describe, expect, it } from 'vitest';
import { NodeMessageLimits, type NodeMessageLimitsConfig } from './node-message-limits.ts';

const limitsAt = (config: Partial<NodeMessageLimitsConfig>) => {
  const clock = { nowMs: 1_000_000 };
  const limits = new NodeMessageLimits({ heartbeatIntervalMs: 5_000, now: () => clock.nowMs, config });
  return { limits, clock };
};

/** How many of `addresses`' registrations pass, in order; the refusals' messages. */
function register(limits: NodeMessageLimits, addresses: string[]) {
  let passed = 0;
  const refusals: HexEdgeError[] = [];
  for (const address of addresses) {
    try {
      limits.checkIp(address, 'registration');
      passed++;
    } catch (err) {
      if (!(err instanceof HexEdgeError)) throw err;
      refusals.push(err);
    }
  }
  return { passed, refusals };
}

const in64 = (prefix: string, count: number) =>
  Array.from(
    { length: count },
    (_, i) => `${prefix}:${(i + 1).toString(16)}:${((i * 7919) % 0x10000).toString(16)}::1`,
  );

describe('NodeMessageLimits sources', () => {
  it('limits registrations from many addresses of one IPv6 /64 as one source', () => {
    const { limits } = limitsAt({ registrationsPerIp: { perSecond: 1 / 60, burst: 5 } });
    const { passed, refusals } = register(limits, in64('2001:db8:a:1', 50));
    expect(passed).toBe(5);
    expect(refusals).toHaveLength(45);
    expect(refusals[0]!.code).toBe('RATE_LIMITED');
    expect(refusals[0]!.message).toContain('2001:db8:a:1::/64');
    // Another /64 (another subscriber) is not held up by the first one's flood.
    expect(register(limits, ['2001:db8:a:2::1']).passed).toBe(1);
  });

  it('counts ::ffff:a.b.c.d and a.b.c.d as one source, and other IPv4 addresses apart', () => {
    const { limits } = limitsAt({ registrationsPerIp: { perSecond: 1 / 60, burst: 4 } });
    const { passed, refusals } = register(limits, [
      '198.51.100.7',
      '::ffff:198.51.100.7',
      '[::ffff:198.51.100.7]',
      '::ffff:c633:6407',
      '198.51.100.7',
      '::ffff:198.51.100.7',
    ]);
    expect(passed).toBe(4);
    expect(refusals[0]!.message).toContain('from 198.51.100.7 ');
    expect(register(limits, ['198.51.100.8', '::ffff:198.51.100.9']).passed).toBe(2);
  });

  it('bounds rotating /64s inside one /48, and leaves other /48s alone', () => {
    const { limits, clock } = limitsAt({
      registrationsPerIp: { perSecond: 1 / 60, burst: 3 },
      registrationsPer48: { perSecond: 1, burst: 20 },
    });
    // Each registration from a fresh /64: the per-/64 bucket never binds, the /48 one does.
    const rotating = Array.from({ length: 100 }, (_, i) => `2001:db8:a:${(i + 1).toString(16)}::1`);
    const { passed, refusals } = register(limits, rotating);
    expect(passed).toBe(20);
    expect(refusals[0]!.message).toContain('2001:db8:a::/48');
    expect(refusals[0]!.details?.retryAfterMs).toBe(1000);
    expect(register(limits, ['2001:db8:b:1::1', '2001:db8:b:2::1']).passed).toBe(2);
    // The /48 refills at its sustained rate: 10 s later, 10 more.
    clock.nowMs += 10_000;
    expect(register(limits, rotating.slice(50, 80)).passed).toBe(10);
  });

  it('spends nothing when refused: a /48 refusal leaves the /64 bucket, a /64 refusal the /48 one', () => {
    const { limits } = limitsAt({
      registrationsPerIp: { perSecond: 1 / 60, burst: 2 },
      registrationsPer48: { perSecond: 1 / 60, burst: 3 },
    });
    expect(register(limits, ['2001:db8:a:1::1', '2001:db8:a:1::2', '2001:db8:a:1::3']).passed).toBe(2);
    // The third (refused by its /64) took nothing from the /48: one left there.
    expect(register(limits, ['2001:db8:a:2::1', '2001:db8:a:3::1']).passed).toBe(1);
  });

  it('keeps a /48 bucket at least as loose as the per-source one an operator raised', () => {
    const { limits } = limitsAt({
      registrationsPerIp: { perSecond: 1, burst: 40 },
      registrationsPer48: { perSecond: 0.5, burst: 10 },
    });
    expect(register(limits, in64('2001:db8:a:1', 60)).passed).toBe(40);
  });

  it('limits heartbeats per /64 and per /48 the same way, apart from registrations', () => {
    const { limits } = limitsAt({
      heartbeatsPerIp: { perSecond: 1, burst: 10 },
      heartbeatsPer48: { perSecond: 1, burst: 25 },
    });
    const beat = (address: string) => {
      try {
        limits.checkIp(address, 'heartbeat');
        return true;
      } catch {
        return false;
      }
    };
    expect(in64('2001:db8:c:1', 30).filter(beat)).toHaveLength(10);
    expect(in64('2001:db8:c:2', 30).filter(beat)).toHaveLength(10);
    expect(in64('2001:db8:c:3', 30).filter(beat)).toHaveLength(5);
    expect(register(limits, ['2001:db8:c:4::1']).passed).toBe(1);
  });

  it('never throws anything but RATE_LIMITED on odd addresses, and puts them in one shared bucket', () => {
    const { limits } = limitsAt({ registrationsPerIp: { perSecond: 1 / 60, burst: 3 } });
    const odd = [
      'fe80::1%eth0',
      'fe80::2%lo',
      'not an address',
      '2001:db8:::1',
      'x'.repeat(5000),
      '1.2.3.999',
    ];
    const { passed, refusals } = register(limits, odd);
    // The two link-local ones share fe80::/64; the four unparsable ones share one bucket of 3.
    expect(passed).toBe(5);
    expect(refusals.map((e) => e.code)).toEqual(['RATE_LIMITED']);
    expect(refusals[0]!.message).toContain('unparsed');
    expect(register(limits, [undefined as unknown as string]).passed).toBe(1);
  });
});
