import type { LatLng } from '@hexedge/protocol';
import { ADMIN_KEY, MODEL } from './configs.ts';
import type { Fabric, Host } from './fabric.ts';
import type { FetchResult } from './hosts.ts';

/** Wall-clock ms with sub-ms resolution (the agents use the same clock). */
export const wallMs = () => performance.timeOrigin + performance.now();

export const inferBody = (location: LatLng, policy?: Record<string, unknown>) => ({
  model: MODEL.name,
  location,
  inputs: [{ name: 'readings', datatype: 'FP32', shape: [1, 3], data: [29, 55, 900] }],
  ...(policy ? { policy } : {}),
});

export type InferAnswer = FetchResult<{ node?: { id: string }; error?: { code: string; message: string } }>;

/** `POST /v1/infer` to the gateway, sent from a host (its agent), with the admin key. */
export function infer(fabric: Fabric, from: Host, body: unknown, timeoutMs = 10_000): Promise<InferAnswer> {
  return fabric.agent(from.key).call<InferAnswer>('fetch', {
    url: `${fabric.url.gateway}/v1/infer`,
    headers: { authorization: `Bearer ${ADMIN_KEY}` },
    body,
    timeoutMs,
  });
}

/** The host key of the node with this id (for tables), or `unknown:<id>`. */
export const keyOfNode = (fabric: Fabric, nodeId: string | undefined) =>
  fabric.nodes.find((n) => n.nodeId === nodeId)?.host.key ?? `unknown:${nodeId}`;

/** Fastest of `count` TCP handshakes from a host to a node's OIP port. */
export async function tcpRttMs(
  fabric: Fabric,
  from: Host,
  to: Host,
  port: number,
  count = 5,
): Promise<number> {
  return (await fabric.agent(from.key).call<{ minMs: number }>('tcpRtt', { host: to.address, port, count }))
    .minMs;
}
