import { describe, expect, it } from 'vitest';
import { bytesToHex, sha256Hex } from './encoding.ts';

describe('bytesToHex', () => {
  it('writes every byte as two lowercase digits', () => {
    expect(bytesToHex(new Uint8Array([0, 1, 15, 16, 171, 255]))).toBe('00010f10abff');
    const all = Uint8Array.from({ length: 256 }, (_, b) => b);
    expect(bytesToHex(all)).toBe(Array.from(all, (b) => b.toString(16).padStart(2, '0')).join(''));
    expect(bytesToHex(new Uint8Array(0))).toBe('');
  });

  it('gives the known SHA-256 of "abc" (FIPS 180-2)', async () => {
    expect(await sha256Hex(new TextEncoder().encode('abc'))).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });
});
