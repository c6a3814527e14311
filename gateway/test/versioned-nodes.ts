import type { Placement } from '@hexedge/placement';
import {
  generateNodeKeyPair,
  RECEIPT_PARAMETER,
  signBody,
  tensorsDigest,
  type ModelManifest,
  type NodeKeyPair,
  type Tensor,
} from '@hexedge/protocol';
import type { NodeAnswer, NodeClient } from '../src/index.ts';
import { forwardedRequest } from './fake-nodes.ts';

/**
 * In-memory nodes serving several versions of model `m`, for unit tests of rollouts: version `v`
 * multiplies its input by `factor` (a broken build has another factor), optionally after a delay or
 * failing with a 500, and signs a real receipt for the version it ran.
 */
export interface VersionBehaviour {
  factor: number;
  delayMs?: number;
  fail?: boolean;
}

export const contentIdOf = (version: string) =>
  Array.from(version.padEnd(64, '0').slice(0, 64), (ch) => ('0123456789abcdef'.includes(ch) ? ch : 'e')).join(
    '',
  );

export function manifestOf(version: string, tolerance = 1e-4): ModelManifest {
  return {
    name: 'm',
    version,
    task: 'test',
    description: '',
    contentId: contentIdOf(version),
    sizeBytes: 1,
    inputs: [{ name: 'x', datatype: 'FP32', shape: [-1] }],
    outputs: [{ name: 'y', datatype: 'FP32', shape: [-1] }],
    batchable: true,
    quantization: { scheme: 'fp32' },
    tolerance,
    prefersAccelerator: false,
    license: 'test',
    source: 'test',
  };
}

export interface VersionedNode {
  keys: NodeKeyPair;
  url: string;
  versions: Record<string, VersionBehaviour>;
}

export async function versionedNode(
  url: string,
  versions: Record<string, VersionBehaviour>,
): Promise<VersionedNode> {
  return { keys: await generateNodeKeyPair(), url, versions };
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), reject(new Error('aborted'))), { once: true });
  });

/** The client the gateway forwards through: calls are recorded as `{node url}@{version}`; `inFlight` per version. */
export function versionedClient(
  nodes: VersionedNode[],
): NodeClient & { calls: string[]; inFlight: Map<string, number>; maxInFlight: Map<string, number> } {
  const calls: string[] = [];
  const inFlight = new Map<string, number>();
  const maxInFlight = new Map<string, number>();
  return {
    calls,
    inFlight,
    maxInFlight,
    async post({ url, body, signal, headers }): Promise<NodeAnswer> {
      const node = nodes.find((n) => url.startsWith(n.url))!;
      const version = decodeURIComponent(/\/versions\/([^/]+)\//.exec(url)![1]!);
      const behaviour = node.versions[version];
      calls.push(`${node.url}@${version}`);
      if (!behaviour) return { status: 404, body: { error: 'no such version' } };
      inFlight.set(version, (inFlight.get(version) ?? 0) + 1);
      maxInFlight.set(version, Math.max(maxInFlight.get(version) ?? 0, inFlight.get(version)!));
      try {
        if (behaviour.delayMs) await sleep(behaviour.delayMs, signal);
        if (behaviour.fail) return { status: 500, body: { error: 'boom' } };
        const request = forwardedRequest(body, headers) as { id: string; inputs: Tensor[] };
        const x = request.inputs[0]!;
        const outputs: Tensor[] = [
          {
            name: 'y',
            datatype: 'FP32',
            shape: x.shape,
            data: Array.from(x.data as ArrayLike<number>, (v) => v * behaviour.factor),
          },
        ];
        const receipt = await signBody(
          'receipt',
          {
            nodeId: node.keys.nodeId,
            requestId: request.id,
            modelName: 'm',
            modelVersion: version,
            modelContentId: contentIdOf(version),
            inputDigest: await tensorsDigest(request.inputs),
            outputDigest: await tensorsDigest(outputs),
            issuedAtMs: Date.now(),
            serviceTimeMs: 1,
          },
          node.keys.privateKey,
        );
        return {
          status: 200,
          body: {
            model_name: 'm',
            model_version: version,
            id: request.id,
            parameters: { [RECEIPT_PARAMETER]: JSON.stringify(receipt) },
            outputs,
          },
        };
      } finally {
        inFlight.set(version, inFlight.get(version)! - 1);
      }
    },
  };
}

export async function registerVersioned(
  placement: Placement,
  node: VersionedNode,
  at: { lat: number; lng: number },
) {
  const signed = await signBody(
    'registration',
    {
      nodeId: node.keys.nodeId,
      issuedAtMs: Date.now(),
      url: node.url,
      location: at,
      hardware: { cpuCores: 1, memoryMb: 512, executionProviders: ['cpu' as const] },
      models: Object.keys(node.versions).map((version) => ({
        name: 'm',
        version,
        contentId: contentIdOf(version),
        ready: true,
      })),
    },
    node.keys.privateKey,
  );
  await placement.registry.register(signed);
}
