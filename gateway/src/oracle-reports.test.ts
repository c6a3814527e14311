import { base64UrlToBytes } from '@hexedge/protocol';
import { describe, expect, it } from 'vitest';
import { reportNonce } from './oracle-reports.ts';

describe('reportNonce', () => {
  it('gives 16 random bytes in base64url, never the same twice across pool refills', () => {
    const nonces = Array.from({ length: 2_000 }, () => reportNonce());
    expect(new Set(nonces).size).toBe(nonces.length);
    for (const n of nonces) {
      expect(n).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(base64UrlToBytes(n)).toHaveLength(16);
    }
    // Not a counter or a fixed pattern: every byte position takes many values over the sample.
    for (let i = 0; i < 16; i++)
      expect(new Set(nonces.map((n) => base64UrlToBytes(n)[i])).size).toBeGreaterThan(200);
  });
});
