/**
 * Fresh forwards for the requests the suite sends straight to a node (the proxy and direct rows): edge
 * nodes serve only requests a gateway or oracle they know authenticated for them, and refuse a forward
 * they served already (protocol's ForwardReplayGuard), so each request is a new forward, as a gateway's
 * are: its own body (a unique OIP `id`) and its own forward MAC, made here in the load generator for
 * each request — what any forwarder must do, a few µs with node:crypto's HMAC (the gateway row's
 * gateway pays the same inside its process). The bare proxy process only passes the headers on, so
 * its work is what it was; the cost lands in this process, which no row measures, before each
 * request's clock starts (load.ts `prepare`). The suite
 * authenticates as a second gateway the node is configured with, with a MAC as the gateway does to a
 * node that takes them (the node pays the same check and replay lookup for both peers' requests), or a
 * signature where no MAC key can be agreed.
 */
import { ForwardMacKeys, macForward, macForwardNow, signForward, type NodeKeyPair } from '@hexedge/protocol';
import { nodeSha256Hex, useNodeForwardMac } from '@hexedge/protocol/node';
import { randomBytes } from 'node:crypto';

const encoder = new TextEncoder();

export interface FreshForward {
  body: Uint8Array;
  headers: Record<string, string>;
}

/**
 * `forwardFor(i)`: request i's body (`makeBody` with a unique id) and its forward headers, made now; a
 * promise only where a signature stands in for a MAC.
 */
export async function freshForwards(options: {
  keys: NodeKeyPair;
  targetNodeId: string;
  modelName: string;
  modelVersion: string;
  /** Request i's OIP body without an id (the suite's readings, cycled). */
  bodyOf: (i: number) => Record<string, unknown>;
}): Promise<{ forwardFor: (i: number) => FreshForward | Promise<FreshForward> }> {
  useNodeForwardMac();
  const macs = new ForwardMacKeys({ keys: options.keys });
  const target = {
    targetNodeId: options.targetNodeId,
    route: 'infer' as const,
    modelName: options.modelName,
    modelVersion: options.modelVersion,
  };
  // The pair's key derived once, ahead of the load (it is cached from then on: MACs need no promise).
  const macs0 = await macForward({ ...target, macs, body: new Uint8Array(0), nowMs: Date.now() });
  // Unique across runs against one node too (a node remembers forwards for a minute).
  const run = randomBytes(6).toString('base64url');
  let sent = 0;
  return {
    forwardFor: (i) => {
      const body = encoder.encode(JSON.stringify({ id: `bench-${run}-${sent++}`, ...options.bodyOf(i) }));
      const nowMs = Date.now();
      if (!macs0)
        return signForward({ ...target, keys: options.keys, body, nowMs, sha256: nodeSha256Hex }).then(
          (headers) => ({ body, headers }),
        );
      const headers = macForwardNow({ ...target, macs, body, nowMs, sha256: nodeSha256Hex });
      const withHeaders = (h: Record<string, string> | undefined) => {
        if (!h) throw new Error(`no forward MAC key with ${target.targetNodeId} any longer`);
        return { body, headers: h };
      };
      return headers instanceof Promise ? headers.then(withHeaders) : withHeaders(headers);
    },
  };
}
