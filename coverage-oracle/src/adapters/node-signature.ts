import { verify } from 'node:crypto';
import { NODE_ID_PATTERN, signingInput, type Signed, type SignedKind } from '@hexedge/protocol';
import { ed25519PublicKeyOf } from '@hexedge/protocol/node';

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/**
 * protocol's `isValidSignature` through node:crypto: the same Ed25519 (OpenSSL under both) over the
 * same signed bytes, without WebCrypto's algorithm normalisation and key import per check. Still on
 * libuv's thread pool (the callback form), so signature-bound traffic (v1, a signature per message)
 * keeps using every core and the event loop stays free. The same refusals: a malformed node id, a
 * signature that is not base64url or not 64 bytes → false.
 */
export function nodeIsValidSignature(
  kind: SignedKind,
  signed: Signed<{ nodeId: string }>,
): boolean | Promise<boolean> {
  const { body, signature } = signed;
  if (typeof body?.nodeId !== 'string' || !NODE_ID_PATTERN.test(body.nodeId)) return false;
  if (typeof signature !== 'string' || !BASE64URL.test(signature)) return false;
  const sig = Buffer.from(signature, 'base64url');
  if (sig.length !== 64) return false;
  let key: ReturnType<typeof ed25519PublicKeyOf>;
  try {
    key = ed25519PublicKeyOf(body.nodeId);
  } catch {
    return false; // an id that is not a curve point verifies nothing
  }
  const data = signingInput(kind, body);
  return new Promise((resolve, reject) =>
    verify(null, data, key, sig, (err, ok) => (err ? reject(err) : resolve(ok))),
  );
}
