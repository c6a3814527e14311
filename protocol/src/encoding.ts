/** base64url without padding (RFC 4648 §5), over Uint8Array so it works on every runtime. */
export function bytesToBase64Url(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]!);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function base64UrlToBytes(text: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new TypeError('not base64url');
  const padded = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4);
  const binary = atob(padded);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

// A byte's two hex digits from a table: digests, signatures and trace ids are hexed on every request.
const HEX_PAIRS = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

export function bytesToHex(bytes: Uint8Array): string {
  let hex = '';
  for (let i = 0; i < bytes.length; i++) hex += HEX_PAIRS[bytes[i]!]!;
  return hex;
}

export async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as BufferSource));
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  return bytesToHex(await sha256(bytes));
}

/**
 * A SHA-256 to lowercase hex, sync or async: WebCrypto's by default; a runtime may inject a faster one.
 * `utf8`, when the runtime has it, hashes a string's UTF-8 bytes without building them in JS first.
 * A hash with `utf8` is synchronous and reads its input before returning, so batch leaves hand it a
 * view of their shared buffer (batchLeafHash); any other gets its own copy.
 */
export type Sha256Hex = ((bytes: Uint8Array) => string | Promise<string>) & {
  utf8?: (text: string) => string;
};
