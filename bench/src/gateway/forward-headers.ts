/**
 * Forward authentication for requests the suite sends straight to a node (the proxy and direct rows):
 * edge nodes serve only requests a gateway or oracle they know authenticated for them, so the suite
 * authenticates as a second gateway the node is configured with — with a forward MAC, as the gateway
 * does to a node that accepts them (the node then pays the same ~10 µs check for both peers' requests,
 * not an Ed25519 verification for the proxy's only), or a signature where no MAC key can be agreed.
 * Both hold ±60 s, so every body's headers are made ahead of the load and again every 20 s in the
 * background, off the measured path.
 */
import { ForwardMacKeys, macForward, signForward, type NodeKeyPair } from '@hexedge/protocol';

const RESIGN_EVERY_MS = 20_000;

export async function forwardHeaders(options: {
  keys: NodeKeyPair;
  targetNodeId: string;
  modelName: string;
  modelVersion: string;
  bodies: readonly Uint8Array[];
}): Promise<{ headersFor: (bodyIndex: number) => Record<string, string>; stop(): void }> {
  const macs = new ForwardMacKeys({ keys: options.keys });
  const target = {
    targetNodeId: options.targetNodeId,
    route: 'infer' as const,
    modelName: options.modelName,
    modelVersion: options.modelVersion,
  };
  const sign = () =>
    Promise.all(
      options.bodies.map(async (body) => {
        const nowMs = Date.now();
        return (
          (await macForward({ ...target, macs, body, nowMs })) ??
          signForward({ ...target, keys: options.keys, body, nowMs })
        );
      }),
    );
  let current = await sign();
  const timer = setInterval(() => void sign().then((next) => (current = next)), RESIGN_EVERY_MS);
  timer.unref();
  return { headersFor: (i) => current[i]!, stop: () => clearInterval(timer) };
}
