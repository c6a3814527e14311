import type { Placement } from '@hexedge/placement';
import {
  generateNodeKeyPair,
  jsonDigest,
  RECEIPT_PARAMETER,
  signBody,
  tensorFromBytes,
  tensorsDigest,
  type NodeKeyPair,
  type Tensor,
} from '@hexedge/protocol';
import { KeyRing, MemoryKeyStore, type NodeAnswer, type NodeClient } from '../src/index.ts';

export const KEY = 'unit-test-admin-key';
export const CONTENT_ID = 'c'.repeat(64);
export const MODEL = { name: 'm', version: '1', contentId: CONTENT_ID, ready: true };
/** What a black-hole node writes in its refusals: text that must never reach a caller. */
export const BLACK_HOLE_TEXT = 'internal admin console at 10.0.0.5: token=SECRET';

export interface FakeNode {
  keys: NodeKeyPair;
  url: string;
  /**
   * How this node behaves: answer honestly, fail with 500, lie in its output, be unreachable, be slow,
   * or be a black hole (refuse every request with a 400 whose text it chose).
   */
  mode: 'ok' | 'http500' | 'tamper' | 'down' | 'slow' | 'blackhole';
  delayMs?: number;
}

export async function fakeNode(url: string, mode: FakeNode['mode'] = 'ok'): Promise<FakeNode> {
  return { keys: await generateNodeKeyPair(), url, mode };
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), reject(new Error('aborted'))), { once: true });
  });

/**
 * In-memory stand-ins for edge nodes, for unit-testing the gateway's logic: each doubles its input
 * (or, for /predict, answers `{ doubled }`) and signs a real Ed25519 receipt over the real digests.
 */
export function fakeNodes(nodes: FakeNode[]): NodeClient & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async post({ url, body, signal, headers }): Promise<NodeAnswer> {
      const node = nodes.find((n) => url.startsWith(n.url))!;
      calls.push(node.url);
      if (node.mode === 'down') throw new Error('connect ECONNREFUSED');
      if (node.mode === 'http500') return { status: 500, body: { error: 'boom' } };
      if (node.mode === 'blackhole')
        return { status: 400, body: { error: BLACK_HOLE_TEXT, code: 'INVALID_TENSOR' } };
      if (node.mode === 'slow') await sleep(node.delayMs ?? 200, signal);
      const request = forwardedRequest(body, headers) as {
        id: string;
        inputs?: Tensor[];
        input?: { value: number };
      };
      let inputDigest: string;
      let outputDigest: string;
      let answer: Record<string, unknown>;
      if (request.inputs) {
        const x = request.inputs[0]!;
        const outputs: Tensor[] = [
          {
            name: 'y',
            datatype: 'FP32',
            shape: x.shape,
            data: Array.from(x.data as ArrayLike<number>, (v) => v * 2),
          },
        ];
        [inputDigest, outputDigest] = [await tensorsDigest(request.inputs), await tensorsDigest(outputs)];
        if (node.mode === 'tamper') outputs[0]!.data = [42];
        answer = { outputs };
      } else {
        const output = { doubled: request.input!.value * 2 };
        [inputDigest, outputDigest] = [await jsonDigest(request.input), await jsonDigest(output)];
        answer = { output };
      }
      const receipt = await signBody(
        'receipt',
        {
          nodeId: node.keys.nodeId,
          requestId: request.id,
          modelName: 'm',
          modelVersion: '1',
          modelContentId: CONTENT_ID,
          inputDigest,
          outputDigest,
          issuedAtMs: Date.now(),
          serviceTimeMs: 1,
        },
        node.keys.privateKey,
      );
      return {
        status: 200,
        body: {
          model_name: 'm',
          model_version: '1',
          id: request.id,
          parameters: { [RECEIPT_PARAMETER]: JSON.stringify(receipt) },
          ...answer,
        },
      };
    },
  };
}

/**
 * What a node reads from a forwarded body: JSON (domain input), or the binary tensor extension the
 * gateway forwards tensors in (a JSON header of `inference-header-content-length` bytes, then each
 * input's raw bytes), decoded as the edge node does.
 */
export function forwardedRequest(body: string | Uint8Array, headers: Record<string, string> = {}): unknown {
  if (typeof body === 'string') return JSON.parse(body);
  const headerLength = Number(headers['inference-header-content-length']);
  const head = JSON.parse(new TextDecoder().decode(body.subarray(0, headerLength))) as {
    inputs: (Tensor & { parameters?: { binary_data_size?: number } })[];
  };
  let at = headerLength;
  for (const input of head.inputs) {
    const size = input.parameters!.binary_data_size!;
    input.data = tensorFromBytes(input, body.subarray(at, at + size)).data;
    delete input.parameters;
    at += size;
  }
  return head;
}

export async function register(placement: Placement, node: FakeNode, lat: number, lng: number) {
  const signed = await signBody(
    'registration',
    {
      nodeId: node.keys.nodeId,
      issuedAtMs: Date.now(),
      url: node.url,
      location: { lat, lng },
      hardware: { cpuCores: 1, memoryMb: 512, executionProviders: ['cpu' as const] },
      models: [MODEL],
    },
    node.keys.privateKey,
  );
  await placement.registry.register(signed);
}

export async function keyRing(): Promise<KeyRing> {
  const keys = new KeyRing({ store: new MemoryKeyStore() });
  await keys.adopt(KEY, { name: 'test admin', role: 'admin' });
  return keys;
}

export const body = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    model: 'm',
    location: { lat: 52.37, lng: 4.9 },
    inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1.5] }],
    ...extra,
  });
