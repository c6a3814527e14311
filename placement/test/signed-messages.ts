import { generateNodeKeyPair, signBody, type LatLng, type NodeKeyPair, type NodeModel, type RegistrationBody } from '@hexedge/protocol';

/** Test clock origin (2027-01-15), far from 0 so "silent since" arithmetic is realistic. */
export const T0 = 1_800_000_000_000;
export const contentId = (char: string) => char.repeat(64);
export const MODEL: NodeModel = { name: 'm', version: '1', contentId: contentId('a'), ready: true };

export const CITIES = {
  amsterdam: { lat: 52.37, lng: 4.9 },
  frankfurt: { lat: 50.11, lng: 8.68 },
  zurich: { lat: 47.37, lng: 8.54 },
  london: { lat: 51.5, lng: -0.12 },
  paris: { lat: 48.85, lng: 2.35 },
  berlin: { lat: 52.52, lng: 13.4 },
} satisfies Record<string, LatLng>;

export interface TestNode {
  keys: NodeKeyPair;
  id: string;
  seq: number;
}

export async function newTestNode(): Promise<TestNode> {
  const keys = await generateNodeKeyPair();
  return { keys, id: keys.nodeId, seq: 0 };
}

export function registration(
  node: TestNode,
  options: { issuedAtMs: number; location: LatLng; models?: NodeModel[]; hardware?: RegistrationBody['hardware']; pricePerRequest?: number },
) {
  return signBody(
    'registration',
    {
      nodeId: node.id,
      issuedAtMs: options.issuedAtMs,
      url: `http://${node.id.slice(0, 8).toLowerCase().replace(/[^a-z0-9]/g, 'x')}.test`,
      location: options.location,
      hardware: options.hardware ?? { cpuCores: 4, memoryMb: 4096, executionProviders: ['cpu' as const] },
      models: options.models ?? [MODEL],
      ...(options.pricePerRequest !== undefined ? { pricePerRequest: options.pricePerRequest } : {}),
    },
    node.keys.privateKey,
  );
}

/** The node's next heartbeat (sequence numbers increase by one per call). */
export function heartbeat(node: TestNode, options: { issuedAtMs: number; models?: NodeModel[]; draining?: boolean; seq?: number }) {
  const seq = options.seq ?? ++node.seq;
  return signBody(
    'heartbeat',
    {
      nodeId: node.id,
      seq,
      issuedAtMs: options.issuedAtMs,
      models: options.models ?? [MODEL],
      ...(options.draining !== undefined ? { draining: options.draining } : {}),
    },
    node.keys.privateKey,
  );
}
