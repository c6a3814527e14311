import { createHash } from 'node:crypto';

/**
 * SHA-256 through node:crypto: synchronous and ~15× faster than WebCrypto's `subtle.digest` for the
 * small buffers of API keys and receipts (measured 2.3 µs against 35 µs for 120 bytes), which run
 * several times on every request.
 */
export function nodeSha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
