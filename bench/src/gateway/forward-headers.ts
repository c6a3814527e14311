/**
 * Forward signatures for requests the suite sends straight to a node (the proxy and direct rows):
 * edge nodes serve only requests a gateway or oracle they know signed for them, so the suite signs as
 * a second gateway the node is configured with. Signatures hold ±60 s, so every body's headers are
 * signed ahead of the load and re-signed every 20 s in the background, off the measured path.
 */
import { signForward, type NodeKeyPair } from '@hexedge/protocol';

const RESIGN_EVERY_MS = 20_000;

export async function forwardHeaders(options: {
  keys: NodeKeyPair;
  targetNodeId: string;
  modelName: string;
  modelVersion: string;
  bodies: readonly Uint8Array[];
}): Promise<{ headersFor: (bodyIndex: number) => Record<string, string>; stop(): void }> {
  const sign = () =>
    Promise.all(
      options.bodies.map((body) =>
        signForward({
          keys: options.keys,
          targetNodeId: options.targetNodeId,
          route: 'infer',
          modelName: options.modelName,
          modelVersion: options.modelVersion,
          body,
          nowMs: Date.now(),
        }),
      ),
    );
  let current = await sign();
  const timer = setInterval(() => void sign().then((next) => (current = next)), RESIGN_EVERY_MS);
  timer.unref();
  return { headersFor: (i) => current[i]!, stop: () => clearInterval(timer) };
}
