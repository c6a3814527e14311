import { describe, expect, it } from 'vitest';
import { clientSourceOf } from './client-source.ts';

describe('clientSourceOf', () => {
  it('counts an IPv4 address as itself, and its IPv4-mapped IPv6 form as the same source', () => {
    expect(clientSourceOf('203.0.113.9')).toEqual({ key: '203.0.113.9' });
    expect(clientSourceOf('::ffff:203.0.113.9')).toEqual({ key: '203.0.113.9' });
    expect(clientSourceOf('::FFFF:203.0.113.9')).toEqual({ key: '203.0.113.9' });
    expect(clientSourceOf('0:0:0:0:0:ffff:cb00:7109')).toEqual({ key: '203.0.113.9' });
    expect(clientSourceOf('[::ffff:203.0.113.9]')).toEqual({ key: '203.0.113.9' });
    expect(clientSourceOf('203.0.113.10')).toEqual({ key: '203.0.113.10' });
  });

  it('counts every address of one IPv6 /64 as one source, however it is written', () => {
    const forms = [
      '2001:db8:a:1::1',
      '2001:DB8:A:1:FFFF:FFFF:FFFF:FFFE',
      '2001:0db8:000a:0001:1234:5678:9abc:def0',
      '2001:db8:a:1:0:0:0:2',
      '[2001:db8:a:1::3]',
      '2001:db8:a:1::4%eth0',
      '2001:db8:a:1::5.6.7.8',
    ];
    for (const address of forms)
      expect(clientSourceOf(address), address).toEqual({
        key: '2001:db8:a:1::/64',
        prefix48: '2001:db8:a::/48',
      });
    // 2^64 fresh addresses, one source.
    const many = new Set<string>();
    for (let i = 0; i < 1000; i++) many.add(clientSourceOf(`2001:db8:a:1:${i.toString(16)}::${i}`).key);
    expect([...many]).toEqual(['2001:db8:a:1::/64']);
  });

  it('tells distinct /64s apart, and groups them by /48', () => {
    const a = clientSourceOf('2001:db8:a:1::1');
    const b = clientSourceOf('2001:db8:a:2::1');
    const c = clientSourceOf('2001:db8:b:1::1');
    expect(new Set([a.key, b.key, c.key]).size).toBe(3);
    expect(a.prefix48).toBe(b.prefix48);
    expect(c.prefix48).toBe('2001:db8:b::/48');
    expect(clientSourceOf('2001:db8:a:0:1::').key).toBe('2001:db8:a::/64');
    expect(clientSourceOf('::1')).toEqual({ key: '::/64', prefix48: '::/48' });
    expect(clientSourceOf('fe80::1%lo0').key).toBe('fe80::/64');
    expect(clientSourceOf('1:2:3:4:5:6:7:8')).toEqual({ key: '1:2:3:4::/64', prefix48: '1:2:3::/48' });
  });

  it('answers malformed, empty, oversized and zone-only addresses with a shared bucket, never throwing', () => {
    for (const bad of [
      '2001:db8:::1',
      '2001:db8::a::1',
      '1:2:3:4:5:6:7:8:9',
      '1:2:3:4:5:6:7',
      '1:2:3:4:5:6:7::8',
      '12345::',
      'g::1',
      '::ffff:999.1.1.1',
      '::ffff:1.2.3',
      '256.1.1.1',
      '01.2.3.4',
      '1.2.3.4.5',
      'localhost',
      '%eth0',
      '[]',
      ' ',
      ':',
      'x'.repeat(10_000),
      '1:'.repeat(60),
    ])
      expect(clientSourceOf(bad), bad).toEqual({ key: 'unparsed' });
    expect(clientSourceOf(undefined)).toEqual({ key: 'unknown' });
    expect(clientSourceOf('')).toEqual({ key: 'unknown' });
  });
});
