import {
  checkInputSpecs,
  isHexEdgeError,
  type ForwardRoute,
  type InferRequest,
  type NodeModel,
  type PlacementPolicy,
  type Tensor,
} from '@hexedge/protocol';
import type { NodeRecord } from '@hexedge/placement';
import { retryAfterMsOf } from '../trace/node-metadata.ts';
import { encodeInferBody, HEADER_LENGTH_HEADER } from './binary-tensors.ts';
import { DEFAULT_DEADLINE_MS } from './failover-walk.ts';
import { hintHeadersFor } from './infer-hints.ts';
import type { InferServiceOptions } from './infer-ports.ts';
import { checkNodeAnswerNow, type CheckedAnswer } from './node-answer.ts';
import type { NodeAnswer, NodeClient } from './node-client.ts';
import { NodeFault } from './node-fault.ts';
import type { RequestContext } from './request-context.ts';

export interface NodeForwarderOptions extends Pick<
  InferServiceOptions,
  'catalogue' | 'manifestOf' | 'sha256' | 'signForward' | 'forwardAnswered'
> {
  client: NodeClient;
  log: (m: string) => void;
  /** Each receipt check's outcome (metrics). */
  onReceiptChecked: (ok: boolean) => void;
}

/**
 * Resends of one forward to one node at most (forward-batcher.ts `answered`): a signed one after a MAC
 * an older node could not read, then later times after replay refusals (a third identical request in
 * the same millisecond, or someone racing the gateway's own copies to the node).
 */
const MAX_FORWARD_RESENDS = 3;

/** One request to one node, as `NodeForwarder.send` takes it. */
export interface NodeSend {
  node: NodeRecord;
  model: string;
  version: string;
  id: string;
  inputs: Tensor[] | undefined;
  input: unknown;
  outputs?: InferRequest['outputs'];
  signal: AbortSignal;
  hintHeaders?: Record<string, string>;
}

/** One attempt of the failover walk on one node, as `NodeForwarder.attempt` takes it. */
export interface NodeAttempt {
  node: NodeRecord;
  entry: NodeModel;
  request: InferRequest;
  id: string;
  inputs: Tensor[] | undefined;
  signal: AbortSignal;
  policy: PlacementPolicy | undefined;
  started: number;
  ctx: RequestContext;
}

/**
 * InferService's node side: checks a request against the catalogue for the node it goes to, sends it
 * signed, and checks the node's answer and receipt (split out of infer-service.ts).
 */
export class NodeForwarder {
  readonly #client: NodeClient;
  readonly #log: (m: string) => void;
  readonly #manifestOf: InferServiceOptions['manifestOf'];
  readonly #sha256: InferServiceOptions['sha256'];
  readonly #catalogue: InferServiceOptions['catalogue'];
  readonly #signForward: InferServiceOptions['signForward'];
  readonly #forwardAnswered: InferServiceOptions['forwardAnswered'];
  readonly #receiptChecked: (ok: boolean) => void;

  constructor(options: NodeForwarderOptions) {
    this.#client = options.client;
    this.#log = options.log;
    this.#manifestOf = options.manifestOf;
    this.#sha256 = options.sha256;
    this.#catalogue = options.catalogue;
    this.#signForward = options.signForward;
    this.#forwardAnswered = options.forwardAnswered;
    this.#receiptChecked = options.onReceiptChecked;
  }

  /**
   * Sends one request to one node, signed for it: the one way a request reaches a node, so live
   * traffic and the oracle's re-runs are the same bytes on the same route with the same headers.
   */
  async send(a: NodeSend): Promise<NodeAnswer> {
    const route: ForwardRoute = a.inputs ? 'infer' : 'predict';
    const url = `${a.node.url}/v2/models/${encodeURIComponent(a.model)}/versions/${encodeURIComponent(a.version)}/${route}`;
    // Tensors go as the binary extension (no float through JSON inside the fabric); domain input as JSON.
    let body: string | Uint8Array;
    let headers: Record<string, string>;
    if (a.inputs) {
      const encoded = encodeInferBody({
        id: a.id,
        inputs: a.inputs,
        ...(a.outputs ? { outputs: a.outputs } : {}),
      });
      body = encoded.body;
      headers = {
        ...a.hintHeaders,
        'content-type': 'application/octet-stream',
        [HEADER_LENGTH_HEADER]: String(encoded.headerLength),
      };
    } else {
      body = JSON.stringify({ id: a.id, input: a.input });
      headers = { ...a.hintHeaders, 'content-type': 'application/json' };
    }
    const target = { targetNodeId: a.node.id, route, modelName: a.model, modelVersion: a.version, body };
    // A MAC comes at once (no promise): awaited only when it is a signature still to be made.
    const signing = this.#signForward?.(target);
    const signature = signing instanceof Promise ? await signing : signing;
    let sent = signature;
    let answer = await this.#client.post({
      url,
      body,
      signal: a.signal,
      headers: sent ? { ...headers, ...sent } : headers,
    });
    // Sent again as the signer says: signed, to a node from before forward MACs (an older version back
    // in its place) that saw no signature; with a later time, to a node whose replay guard refused it
    // (forward-batcher.ts). Bounded: one that refuses every time gets its refusal passed on.
    for (let resends = 0; resends < MAX_FORWARD_RESENDS; resends++) {
      const again = this.#forwardAnswered?.(a.node.id, answer, sent);
      if (!again) return answer;
      const resigning = this.#signForward!({ ...target, ...again });
      sent = resigning instanceof Promise ? await resigning : resigning;
      answer = await this.#client.post({ url, body, signal: a.signal, headers: { ...headers, ...sent } });
    }
    return answer;
  }

  async attempt(a: NodeAttempt) {
    const { node, entry, request, id, inputs } = a;
    // The catalogue, not the node, says which bytes a name@version is; a model it does not list is the node's own.
    const manifests = this.#catalogue?.manifests() ?? [];
    const listed = manifests.find((m) => m.name === request.model && m.version === entry.version);
    if (
      (!listed && manifests.some((m) => m.name === request.model)) ||
      (listed && listed.contentId !== entry.contentId)
    ) {
      this.#log(
        `node ${node.id} announces ${request.model}@${entry.version} as ${entry.contentId}; the catalogue ${listed ? `lists ${listed.contentId}` : 'does not list that version'}`,
      );
      throw new NodeFault({ nodeId: node.id, kind: 'wrong-model' });
    }
    // Checked against the manifest of the very bytes this node announced, with the edge node's own
    // check: what passes here an honest node accepts, so a refusal is the node's fault.
    const manifest = inputs ? (listed ?? this.#manifestOf?.(entry.contentId)) : undefined;
    if (manifest && inputs) {
      checkInputSpecs({
        model: request.model,
        specs: manifest.inputs,
        inputs,
        outputSpecs: manifest.outputs,
        outputs: request.outputs?.map((o) => o.name) ?? [],
      });
    }
    const started = performance.now();
    const forward = a.ctx.trace.forward(node.id);
    // The node's scheduler learns the priority and the budget left (relative: the clocks need not agree).
    const hintHeaders = hintHeadersFor({
      trace: forward.context,
      deadlineMs: a.started + (a.policy?.deadlineMs ?? DEFAULT_DEADLINE_MS) - started,
      priority: a.policy?.priority,
    });
    let answer: NodeAnswer;
    try {
      answer = await this.send({
        node,
        model: request.model,
        version: entry.version,
        id,
        inputs,
        input: request.input,
        ...(request.outputs ? { outputs: request.outputs } : {}),
        signal: a.signal,
        hintHeaders,
      });
    } catch (err) {
      const oversized = isHexEdgeError(err) && err.code === 'PAYLOAD_TOO_LARGE';
      if (!oversized) this.#log(`node ${node.id} unreachable: ${(err as Error).message}`);
      forward.end({ ok: false, detail: oversized ? 'oversized' : 'unreachable' });
      throw new NodeFault({ nodeId: node.id, kind: oversized ? 'oversized' : 'unreachable' });
    }
    const checkStarted = performance.now();
    const nodeMs = checkStarted - started;
    let checked: CheckedAnswer;
    try {
      // Most answers are checked without a promise (a root verified before): no await then.
      const now = checkNodeAnswerNow({
        answer,
        node,
        entry,
        request,
        requestId: id,
        inputs,
        validated: manifest !== undefined,
        contentId: listed?.contentId ?? entry.contentId,
        onReceiptChecked: this.#receiptChecked,
        ...(this.#sha256 ? { sha256: this.#sha256 } : {}),
        log: this.#log,
      });
      checked = now instanceof Promise ? await now : now;
    } catch (err) {
      if (err instanceof NodeFault && err.overloaded) {
        const o = a.ctx.overloaded;
        o.count++;
        const waitMs = retryAfterMsOf(answer.body);
        if (waitMs !== undefined) o.retryAfterMs = Math.min(o.retryAfterMs ?? waitMs, waitMs);
      }
      forward.end({
        ok: false,
        detail: err instanceof NodeFault ? err.kind : 'error',
        answeredPerf: checkStarted,
      });
      throw err;
    }
    const metadata = a.ctx.trace.nodeMetadata(checked.receiptMetadata);
    forward.end({ ok: true, answeredPerf: checkStarted, ...(metadata ? { metadata } : {}) });
    a.ctx.trace.mark('receipt-check', checkStarted, { nodeId: node.id });
    return { ...checked, nodeMs, metadata };
  }
}
