import type { LatLng } from '@hexedge/protocol';
import type { Hotspot } from './poc/types.ts';

/** A compute node as registered with placement: where it claims to be and where to reach it. */
export interface ClaimedNode {
  nodeId: string;
  location: LatLng;
  url: string;
  models: string[];
  /** When the node made this claim (registration or last move), as its gateway lists it. */
  claimedAtMs?: number;
  /** The gateway that listed it: spot-check re-runs reach the node through it, as its live traffic does. */
  gatewayUrl?: string;
}

/** A challenger or reporter at a known place (a verified node, a gateway, the firmware bridge). */
export interface KnownReporter {
  nodeId: string;
  location?: LatLng;
  roles: Array<'challenger' | 'gateway' | 'bridge'>;
  /** Configured by whoever runs the oracle (the oracle itself, fixed challengers): needs no standing or corroboration. */
  trusted?: boolean;
}

/**
 * Who the oracle knows: asserted hotspots, compute nodes' claims and trusted reporters. The wiring
 * feeds it from placement's registry and config; the oracle only reads it.
 */
export interface OracleDirectory {
  getHotspot(key: string): Hotspot | undefined;
  listHotspots(): Hotspot[];
  getNode(nodeId: string): ClaimedNode | undefined;
  listNodes(): ClaimedNode[];
  getReporter(nodeId: string): KnownReporter | undefined;
  /**
   * Asked when a report with a valid signature names a gateway reporter this directory does not know:
   * re-reads where reporters come from, so a gateway that started (or changed its report key) after
   * the last read is known before its report is judged. Implementations rate-limit it (the reporter
   * ids are free to make); absent, unknown reporters are refused at once.
   */
  refreshReporters?(): Promise<void>;
}

export class MemoryDirectory implements OracleDirectory {
  readonly #hotspots = new Map<string, Hotspot>();
  readonly #nodes = new Map<string, ClaimedNode>();
  readonly #reporters = new Map<string, KnownReporter>();
  /** Bumped on every hotspot change, so density scales are recomputed only when the set changes. */
  hotspotVersion = 0;

  putHotspot(hotspot: Hotspot): void {
    this.#hotspots.set(hotspot.key, { ...hotspot });
    this.hotspotVersion++;
  }
  removeHotspot(key: string): void {
    if (this.#hotspots.delete(key)) this.hotspotVersion++;
  }
  putNode(node: ClaimedNode): void {
    this.#nodes.set(node.nodeId, { ...node, location: { ...node.location }, models: [...node.models] });
  }
  removeNode(nodeId: string): void {
    this.#nodes.delete(nodeId);
  }
  putReporter(reporter: KnownReporter): void {
    this.#reporters.set(reporter.nodeId, { ...reporter, roles: [...reporter.roles] });
  }

  getHotspot(key: string): Hotspot | undefined {
    return this.#hotspots.get(key);
  }
  listHotspots(): Hotspot[] {
    return [...this.#hotspots.values()];
  }
  getNode(nodeId: string): ClaimedNode | undefined {
    return this.#nodes.get(nodeId);
  }
  listNodes(): ClaimedNode[] {
    return [...this.#nodes.values()];
  }
  getReporter(nodeId: string): KnownReporter | undefined {
    return this.#reporters.get(nodeId);
  }
}
