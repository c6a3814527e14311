import {
  GATEWAY_IDENTITY_PATH,
  gatewayIdentitySchema,
  nodeListPageSchema,
  NODES_PATH,
  MAX_NODE_PAGE,
  type ListedNode,
} from '@hexedge/protocol';
import { MemoryDirectory, type ClaimedNode, type KnownReporter, type OracleDirectory } from '../directory.ts';
import type { Hotspot } from '../poc/types.ts';
import type { HttpFetch } from './trust-publisher.ts';

const FETCH_TIMEOUT_MS = 5_000;

/**
 * The oracle's directory in a running service: compute nodes' claims come from the gateways'
 * registries (`refresh`), with the gateway that listed each (re-runs reach a node through it) and
 * when it made its claim; asserted hotspots and fixed reporters (the gateways' report keys, the
 * oracle itself as a challenger at its configured place) from config. A node is a challenger only
 * while it has verifier standing (stake, seasoning, a verified location, no misconduct), and even then
 * its location reports are accepted only as answers to the oracle's own probes: a node can neither
 * frame an honest node nor vouch for a friend on its own initiative.
 */
export class GatewayDirectory implements OracleDirectory {
  readonly #static = new MemoryDirectory();
  #nodes = new Map<string, ClaimedNode>();
  /** The configured gateways' report keys, as each gateway publishes it (GET /v1/gateway/identity), by gateway URL. */
  /** Each gateway URL's report keys (every instance behind it lists its siblings': `reporterIds`). */
  #gatewayReporters = new Map<string, KnownReporter[]>();
  /** The same, by report key id (read for every report). */
  #gatewayReporterIds = new Map<string, KnownReporter>();
  readonly #isVerifier: (nodeId: string) => boolean;
  readonly #onUnknownReporter: (() => Promise<unknown>) | undefined;

  constructor(options: {
    isVerifier: (nodeId: string) => boolean;
    reporters?: KnownReporter[];
    hotspots?: Hotspot[];
    /** What `refreshReporters` runs (the service's rate-limited refresh); absent, unknown reporters are refused at once. */
    onUnknownReporter?: () => Promise<unknown>;
  }) {
    this.#isVerifier = options.isVerifier;
    this.#onUnknownReporter = options.onUnknownReporter;
    for (const r of options.reporters ?? []) this.#static.putReporter(r);
    for (const h of options.hotspots ?? []) this.#static.putHotspot(h);
  }

  /**
   * Replaces the node claims and report keys with what the gateways list now (a node that left is no
   * longer challenged or asked to check). Each gateway on its own: one that cannot be read keeps what
   * it listed last, and never hides the others (a gateway that is down must not keep a new one
   * unknown). Returns the gateways that could not be read, with why.
   */
  async refresh(options: {
    gatewayUrls: readonly string[];
    fetch: HttpFetch;
  }): Promise<Array<{ gatewayUrl: string; message: string }>> {
    const failures: Array<{ gatewayUrl: string; message: string }> = [];
    const read = await Promise.all(
      options.gatewayUrls.map(async (gatewayUrl) => {
        try {
          // A configured gateway is trusted as a receipt reporter: its report key is whatever it says it is.
          const reporterIds = await gatewayReporterIds({ gatewayUrl, fetch: options.fetch });
          const nodes = await listGatewayNodes({ gatewayUrl, fetch: options.fetch });
          return { gatewayUrl, reporterIds, nodes };
        } catch (err) {
          failures.push({ gatewayUrl, message: (err as Error).message });
          return { gatewayUrl, failed: true as const };
        }
      }),
    );
    const next = new Map<string, ClaimedNode>();
    const reporters = new Map<string, KnownReporter[]>();
    for (const r of read) {
      if ('failed' in r) {
        for (const n of this.#nodes.values()) if (n.gatewayUrl === r.gatewayUrl) next.set(n.nodeId, n);
        const kept = this.#gatewayReporters.get(r.gatewayUrl);
        if (kept) reporters.set(r.gatewayUrl, kept);
        continue;
      }
      reporters.set(
        r.gatewayUrl,
        r.reporterIds.map((nodeId) => ({ nodeId, roles: ['gateway'] })),
      );
      for (const n of r.nodes) {
        next.set(n.id, {
          nodeId: n.id,
          url: n.url,
          location: { lat: n.lat, lng: n.lng },
          models: n.models.filter((m) => m.ready !== false).map((m) => m.name),
          ...(n.claimedAtMs !== undefined ? { claimedAtMs: n.claimedAtMs } : {}),
          gatewayUrl: r.gatewayUrl,
        });
      }
    }
    this.#nodes = next;
    this.#gatewayReporters = reporters;
    this.#gatewayReporterIds = new Map([...reporters.values()].flat().map((r) => [r.nodeId, r]));
    return failures;
  }

  async refreshReporters(): Promise<void> {
    await this.#onUnknownReporter?.();
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
    const fixed = this.#static.getReporter(nodeId) ?? this.#gatewayReporterIds.get(nodeId);
    if (fixed) return fixed;
    const node = this.#nodes.get(nodeId);
    if (!node || !this.#isVerifier(nodeId)) return undefined;
    return { nodeId, location: node.location, roles: ['challenger'] };
  }
}

/**
 * The gateway's report key ids (`GET /v1/gateway/identity`): `reporterIds` when it lists every instance
 * behind its URL, else its `reporterId`; none for a gateway that has no identity (an older one).
 */
export async function gatewayReporterIds(options: {
  gatewayUrl: string;
  fetch: HttpFetch;
}): Promise<string[]> {
  const res = await options.fetch(new URL(GATEWAY_IDENTITY_PATH, options.gatewayUrl).href, {
    signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
  });
  if (res.status === 404) return [];
  if (!res.ok)
    throw new Error(`GET ${GATEWAY_IDENTITY_PATH} on ${options.gatewayUrl} answered HTTP ${res.status}`);
  const parsed = gatewayIdentitySchema.safeParse(await res.json());
  if (!parsed.success)
    throw new Error(
      `GET ${GATEWAY_IDENTITY_PATH} on ${options.gatewayUrl}: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`,
    );
  return [...new Set([parsed.data.reporterId, ...(parsed.data.reporterIds ?? [])])];
}

/** Every node a gateway lists, page by page. */
export async function listGatewayNodes(options: {
  gatewayUrl: string;
  fetch: HttpFetch;
}): Promise<ListedNode[]> {
  const out: ListedNode[] = [];
  let after: string | undefined;
  for (;;) {
    const url = new URL(NODES_PATH, options.gatewayUrl);
    url.searchParams.set('limit', String(MAX_NODE_PAGE));
    if (after) url.searchParams.set('after', after);
    const res = await options.fetch(url.href, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
    if (!res.ok) throw new Error(`GET ${url.pathname} on ${options.gatewayUrl} answered HTTP ${res.status}`);
    const parsed = nodeListPageSchema.safeParse(await res.json());
    if (!parsed.success)
      throw new Error(
        `GET ${NODES_PATH} on ${options.gatewayUrl}: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`,
      );
    const { nodes, next } = parsed.data;
    out.push(...nodes);
    if (!next || nodes.length === 0) return out;
    after = next;
  }
}
