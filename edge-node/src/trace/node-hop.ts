import {
  formatTraceparent,
  startHop,
  type HopSpan,
  type ReceiptMetadata,
  type ReceiptWithMetadata,
  type SignedReceipt,
} from '@hexedge/protocol';
import type { RequestHints } from '../scheduler/request-hints.ts';

/** The node's hop of a request's trace: a server span, a child of the gateway's forward span. */
export function startNodeHop(o: {
  route: 'infer' | 'predict';
  model: { name: string; version: string };
  hints: RequestHints;
}): HopSpan {
  return startHop({
    tracer: 'hexedge-edge-node',
    name: `node ${o.route} ${o.model.name}`,
    kind: 'server',
    parent: o.hints.trace,
    attributes: {
      'hexedge.model': o.model.name,
      'hexedge.model_version': o.model.version,
      'hexedge.priority': o.hints.priority ?? 'normal',
    },
  });
}

const round3 = (ms: number) => Math.round(ms * 1000) / 1000;

/**
 * The signed receipt with its unsigned metadata (protocol's receiptMetadataSchema): the node's span
 * (only when the request came with a trace) and its queue and run times. Nothing here is signed.
 */
export function withReceiptMetadata(
  receipt: SignedReceipt,
  o: { hop: HopSpan; hints: RequestHints; queueMs: number; runMs: number },
): ReceiptWithMetadata {
  const metadata: ReceiptMetadata = {
    ...(o.hints.trace ? { traceparent: formatTraceparent(o.hop.context) } : {}),
    queueMs: round3(Math.max(0, o.queueMs)),
    runMs: round3(Math.max(0, o.runMs)),
    ...(o.hints.priority ? { priority: o.hints.priority } : {}),
  };
  o.hop.end({ attributes: { 'hexedge.queue_ms': metadata.queueMs!, 'hexedge.run_ms': metadata.runMs! } });
  return { ...receipt, metadata };
}
