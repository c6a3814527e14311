import { hash } from 'node:crypto';
import type { Sha256Hex } from '../encoding.ts';

/**
 * SHA-256 to lowercase hex through node:crypto's one-shot `hash`: synchronous, no Hash object per
 * call, ~1–2 µs for the small inputs of the hot paths (API keys, receipt digests, Merkle nodes)
 * against ~20–35 µs through WebCrypto's `subtle.digest` and its thread-pool hop. `utf8` hashes a
 * string's UTF-8 without building its bytes in JS first (batch leaves are canonical JSON text).
 */
export const nodeSha256Hex: Sha256Hex & { utf8: (text: string) => string } = Object.assign(
  (bytes: Uint8Array): string => hash('sha256', bytes, 'hex'),
  { utf8: (text: string): string => hash('sha256', text, 'hex') },
);
