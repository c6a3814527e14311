import { describe, expect, it } from 'vitest';
import { base64UrlToBytes, bytesToBase64Url, bytesToHex, sha256Hex } from './encoding.ts';

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

describe('bytesToBase64Url', () => {
  /** The reference: a binary string through btoa, made URL-safe and unpadded (the encoder before its table). */
  const reference = (bytes: Uint8Array) =>
    btoa(String.fromCharCode(...bytes))
      .replace(/\+/g, '-')
      .replace(/\//g, '_')
      .replace(/=+$/, '');

  it('gives the RFC 4648 test vectors, unpadded', () => {
    const vectors = ['', 'f', 'fo', 'foo', 'foob', 'fooba', 'foobar'];
    const expected = ['', 'Zg', 'Zm8', 'Zm9v', 'Zm9vYg', 'Zm9vYmE', 'Zm9vYmFy'];
    vectors.forEach((v, i) => expect(bytesToBase64Url(new TextEncoder().encode(v))).toBe(expected[i]));
  });

  it('equals the reference and round-trips for every length and byte (0 to 255, the URL-safe 62 and 63)', () => {
    let seed = 3;
    for (let length = 0; length <= 200; length++) {
      const bytes = Uint8Array.from({ length }, (_, i) =>
        i % 7 === 0 ? 0xff : i % 11 === 0 ? 0xfb : (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24,
      );
      expect(bytesToBase64Url(bytes)).toBe(reference(bytes));
      expect(base64UrlToBytes(bytesToBase64Url(bytes))).toEqual(bytes);
    }
    const all = Uint8Array.from({ length: 256 }, (_, b) => b);
    expect(bytesToBase64Url(all)).toBe(reference(all));
    // A view into a larger buffer encodes only its own bytes.
    expect(bytesToBase64Url(all.subarray(250, 254))).toBe(reference(all.subarray(250, 254)));
  });
});
