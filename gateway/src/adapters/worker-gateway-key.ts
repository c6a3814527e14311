import { importKeyPair, type NodeKeyPair, NODE_ID_PATTERN } from '@hexedge/protocol';

/**
 * The Worker gateway's own Ed25519 identity, from the `HEXEDGE_GATEWAY_KEY` secret. It is what the
 * Node gateway keeps in `<dataDir>/report-key.json`, and the secret is that file's JSON as is
 * (`wrangler secret put HEXEDGE_GATEWAY_KEY < report-key.json`), so one key can move between the two.
 * With it the Worker publishes `GET /v1/gateway/identity` and signs (or MACs) every forward: edge nodes
 * serve only the gateways whose keys they read there (edge-node's known-callers.ts), so a Worker
 * without it cannot reach a node that checks its callers.
 *
 * A secret that does not parse, or whose `nodeId` is not the public half of its private key, is
 * refused with what is wrong (never the key itself): a gateway running under an id it cannot sign for
 * would have every forward refused by every node.
 */
export async function gatewayKeyFromSecret(secret: string): Promise<NodeKeyPair> {
  let stored: unknown;
  try {
    stored = JSON.parse(secret);
  } catch {
    throw new Error(
      'HEXEDGE_GATEWAY_KEY is not JSON: set it to the content of a gateway report-key.json ({"nodeId": …, "privateKeyPkcs8": …})',
    );
  }
  const { nodeId, privateKeyPkcs8 } = (stored ?? {}) as { nodeId?: unknown; privateKeyPkcs8?: unknown };
  if (typeof nodeId !== 'string' || !NODE_ID_PATTERN.test(nodeId))
    throw new Error(
      'HEXEDGE_GATEWAY_KEY has no valid "nodeId" (43 base64url characters of an Ed25519 public key)',
    );
  if (typeof privateKeyPkcs8 !== 'string' || privateKeyPkcs8.length === 0)
    throw new Error(
      'HEXEDGE_GATEWAY_KEY has no "privateKeyPkcs8" (base64url PKCS#8 of an Ed25519 private key)',
    );
  let keys: NodeKeyPair;
  try {
    keys = await importKeyPair({ nodeId, privateKeyPkcs8 });
  } catch (err) {
    throw new Error(
      `HEXEDGE_GATEWAY_KEY's privateKeyPkcs8 is not an Ed25519 private key (${(err as Error).message})`,
    );
  }
  // The private key's JWK carries its public half (x, base64url): it must be the id the key claims.
  const { x } = (await crypto.subtle.exportKey('jwk', keys.privateKey)) as JsonWebKey;
  if (x !== nodeId)
    throw new Error(
      `HEXEDGE_GATEWAY_KEY's nodeId ${nodeId} is not the public key of its privateKeyPkcs8 (${x})`,
    );
  return keys;
}
