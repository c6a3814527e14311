import type { NodeFaultKind } from '@hexedge/protocol';

const DESCRIPTIONS: Record<NodeFaultKind, string> = {
  refused: 'refused the request',
  'server-error': 'failed',
  unreachable: 'was unreachable',
  timeout: 'did not answer in time',
  malformed: 'sent a malformed answer',
  oversized: 'sent an answer over the size limit',
  'bad-receipt': 'sent a receipt that does not check out',
  'wrong-model': "announces a model the catalogue lists with other bytes (or a version it does not list)",
};

/**
 * A node-side failure worth trying the next candidate for. Its message is the gateway's own words
 * (node id, kind, HTTP status): a node's error text never reaches the caller, since a node, or an
 * internal service posing as one, may put anything there.
 */
export class NodeFault extends Error {
  readonly nodeId: string;
  readonly kind: NodeFaultKind;
  readonly httpStatus: number | undefined;
  /**
   * For `refused`: whether the gateway had checked the request against the catalogue itself (an honest
   * node accepts what that check accepts, so the refusal is the node's fault outright); otherwise it is
   * judged by the other nodes' answers.
   */
  readonly validated: boolean;
  /** The node refused for backpressure (503 OVERLOADED / 429): a fault, but never one that trips its breaker. */
  readonly overloaded: boolean;

  constructor(o: {
    nodeId: string;
    kind: NodeFaultKind;
    httpStatus?: number;
    validated?: boolean;
    overloaded?: boolean;
  }) {
    super(
      `node ${o.nodeId} ${DESCRIPTIONS[o.kind]}${o.httpStatus !== undefined ? ` (HTTP ${o.httpStatus})` : ''}`,
    );
    this.name = 'NodeFault';
    this.nodeId = o.nodeId;
    this.kind = o.kind;
    this.httpStatus = o.httpStatus;
    this.validated = o.validated ?? true;
    this.overloaded = o.overloaded ?? false;
  }
}

/** A fault as the gateway reports it to the oracle (ReceiptForwarder's node-fault reports). */
export interface ObservedNodeFault {
  nodeId: string;
  kind: NodeFaultKind;
  httpStatus?: number;
  model: string;
  requestId: string;
  atMs: number;
}
