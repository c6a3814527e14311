import { MemoryDirectory, type ClaimedNode, type KnownReporter, type OracleDirectory } from '../directory.ts';
import type { Hotspot } from '../poc/types.ts';
import type { HttpFetch } from './trust-publisher.ts';

const FETCH_TIMEOUT_MS = 5_000;
/** Nodes read per page of the gateway's node list (its maximum). */
export const NODE_PAGE_SIZE = 1000;

/** One node as the gateway lists it (`GET /v1/nodes`): its id is its public key. */
export interface ListedNode {
  id: string;
  url: string;
  lat: number;
  lng: number;
  models: Array<{ name: string; ready?: boolean }>;
}

/**
 * The oracle's directory in a running service: compute nodes' claims come from the gateways'
 * registries (`refresh`), asserted hotspots and fixed reporters (the gateways' report keys, the
 * oracle itself as a challenger at its configured place) from config. A node challenges others only
 * while it is trusted: an untrusted node's location reports are refused at ingest, so it can neither
 * frame an honest node nor vouch for a friend.
 */
export class GatewayDirectory implements OracleDirectory {
  readonly #static = new MemoryDirectory();
  #nodes = new Map<string, ClaimedNode>();
  readonly #trustOf: (nodeId: string) => number;
  readonly #minChallengerTrust: number;

  constructor(options: { trustOf: (nodeId: string) => number; minChallengerTrust: number; reporters?: KnownReporter[]; hotspots?: Hotspot[] }) {
    this.#trustOf = options.trustOf;
    this.#minChallengerTrust = options.minChallengerTrust;
    for (const r of options.reporters ?? []) this.#static.putReporter(r);
    for (const h of options.hotspots ?? []) this.#static.putHotspot(h);
  }

  /** Replaces the node claims with what the gateways list now (a node that left is no longer challenged or asked to check). */
  async refresh(options: { gatewayUrls: readonly string[]; fetch: HttpFetch }): Promise<number> {
    const next = new Map<string, ClaimedNode>();
    for (const gatewayUrl of options.gatewayUrls) {
      for (const n of await listGatewayNodes({ gatewayUrl, fetch: options.fetch })) {
        next.set(n.id, { nodeId: n.id, url: n.url, location: { lat: n.lat, lng: n.lng }, models: n.models.filter((m) => m.ready !== false).map((m) => m.name) });
      }
    }
    this.#nodes = next;
    return next.size;
  }

  putNode(node: ClaimedNode): void {
    this.#nodes.set(node.nodeId, node);
  }

  getHotspot(key: string): Hotspot | undefined {
    return this.#static.getHotspot(key);
  }
  listHotspots(): Hotspot[] {
    return this.#static.listHotspots();
  }
  getNode(nodeId: string): ClaimedNode | undefined {
    return this.#nodes.get(nodeId);
  }
  listNodes(): ClaimedNode[] {
    return [...this.#nodes.values()];
  }
  getReporter(nodeId: string): KnownReporter | undefined {
    const fixed = this.#static.getReporter(nodeId);
    if (fixed) return fixed;
    const node = this.#nodes.get(nodeId);
    if (!node || this.#trustOf(nodeId) < this.#minChallengerTrust) return undefined;
    return { nodeId, location: node.location, roles: ['challenger'] };
  }
}

/** Every node a gateway lists, page by page. */
export async function listGatewayNodes(options: { gatewayUrl: string; fetch: HttpFetch }): Promise<ListedNode[]> {
  const out: ListedNode[] = [];
  let after: string | undefined;
  for (;;) {
    const url = new URL('/v1/nodes', options.gatewayUrl);
    url.searchParams.set('limit', String(NODE_PAGE_SIZE));
    if (after) url.searchParams.set('after', after);
    const res = await options.fetch(url.href, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
    if (!res.ok) throw new Error(`GET ${url.pathname} on ${options.gatewayUrl} answered HTTP ${res.status}`);
    const page = (await res.json()) as { nodes?: ListedNode[]; next?: string | null };
    const nodes = (page.nodes ?? []).filter((n) => typeof n?.id === 'string' && typeof n.url === 'string' && Number.isFinite(n.lat) && Number.isFinite(n.lng) && Array.isArray(n.models));
    out.push(...nodes);
    if (!page.next || nodes.length === 0) return out;
    after = page.next;
  }
}
