import {
  checkForward,
  EXCHANGE_ACCEPTED_HEADER,
  EXCHANGE_VERSION,
  FORWARD_MAC_ACCEPTED_HEADER,
  FORWARD_MAC_VERSION,
  ForwardRootCache,
  type ForwardMacKeys,
  type ForwardReplayGuard,
  HexEdgeError,
  isHexEdgeError,
  RECEIPT_PARAMETER,
  type NodeKeyPair,
} from '@hexedge/protocol';
import { binaryOutputNames, encodeResponse, HEADER_LENGTH, parseBinaryBody } from './binary-extension.ts';
import { checkInputs } from './input-check.ts';
import type { NodeMetrics } from './metrics.ts';
import type { ModelSet } from './model-set.ts';
import { parseInferenceRequest } from './oip-request.ts';
import type { ReceiptCrypto } from './receipt-crypto.ts';
import { signReceipt } from './receipt.ts';
import type { ReceiptSigner } from './receipt-signer.ts';
import { readRequestHints } from '../scheduler/request-hints.ts';
import { startNodeHop, withReceiptMetadata } from '../trace/node-hop.ts';

/** One infer call as any HTTP layer sees it: the route's params, the request's headers, its body on demand. */
export interface InferCall {
  name: string;
  version: string | undefined;
  /** A request header by lower-case name (duplicates joined with ", ", as `Headers.get` does). */
  header(name: string): string | undefined;
  /** Reads the whole body; not called when the request is refused before (unknown model, bad hints). */
  readBody(): Promise<Uint8Array>;
}

/** The answer to write: status, headers and body (a JSON string, or a binary-extension body). */
export interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  body: string | Uint8Array;
}

export interface InferHandlerOptions {
  models: ModelSet;
  keys: NodeKeyPair;
  metrics: NodeMetrics | undefined;
  now: () => number;
  crypto: ReceiptCrypto;
  signer: ReceiptSigner;
  callers: { isKnown(forwarderId: string): boolean | Promise<boolean> } | undefined;
  /** Forward batch roots this node verified (shared with `/predict`). */
  roots: ForwardRootCache;
  /** This node's forward-MAC keys (protocol's forward-mac.ts): requests may carry a MAC instead of a signature. */
  macs?: ForwardMacKeys;
  /** Forwards served within the skew window (shared with `/predict`): a replayed one is refused. */
  replays?: ForwardReplayGuard;
}

/** What a node that takes forward MACs says on its answers, so its gateways send MACs from then on. */
export const forwardMacAccepted = { [FORWARD_MAC_ACCEPTED_HEADER]: FORWARD_MAC_VERSION };

/**
 * What a node that serves exchanges (exchange-handler.ts, POST /v2/exchange) says on its answers, so
 * its gateways send it coalesced forwards from then on.
 */
export const exchangeAccepted = { [EXCHANGE_ACCEPTED_HEADER]: EXCHANGE_VERSION };

/** The OIP error object (`{ "error": string }`) plus our stable code; 503s say when to come back. */
export function errorAnswer(err: unknown): HttpAnswer {
  const e = isHexEdgeError(err) ? err : new HexEdgeError('INTERNAL', 'internal error');
  if (!isHexEdgeError(err)) console.error('edge-node: unexpected error', err);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const retryAfterMs = e.details?.retryAfterMs;
  if (typeof retryAfterMs !== 'number')
    return { status: e.httpStatus, headers, body: JSON.stringify({ error: e.message, code: e.code }) };
  headers['retry-after'] = String(Math.max(1, Math.ceil(retryAfterMs / 1000)));
  // Also in the body, in ms: the gateway passes the shortest wait on when every node it asked is full.
  const body = { error: e.message, code: e.code, retry_after_ms: Math.ceil(retryAfterMs) };
  return { status: e.httpStatus, headers, body: JSON.stringify(body) };
}

const decoder = new TextDecoder();

/** Reads an infer body as JSON, or as a binary-extension body when the header says so. */
function parseInferBody(call: InferCall, bytes: Uint8Array) {
  const headerLength = call.header(HEADER_LENGTH);
  if (headerLength !== undefined) return parseBinaryBody(bytes, headerLength);
  try {
    return { json: JSON.parse(decoder.decode(bytes)) as unknown, binaryInputs: new Map() };
  } catch {
    throw new HexEdgeError('INVALID_JSON', 'request body is not valid JSON');
  }
}

/** The body, once its forward signature (when callers are checked) is known good. */
export async function readSignedBody(
  o: InferHandlerOptions,
  call: Pick<InferCall, 'header' | 'readBody'>,
  target: { route: 'infer' | 'predict'; name: string; version: string },
): Promise<Uint8Array> {
  const bytes = await call.readBody();
  if (!o.callers) return bytes;
  const check = await checkForward({
    header: call.header,
    targetNodeId: o.keys.nodeId,
    route: target.route,
    modelName: target.name,
    modelVersion: target.version,
    body: bytes,
    isKnown: (id) => o.callers!.isKnown(id),
    nowMs: o.now(),
    // node:crypto's synchronous SHA-256 where the node passes it (the body hash), not a WebCrypto hop.
    sha256: o.crypto.sha256Hex,
    roots: o.roots,
    ...(o.macs ? { macs: o.macs } : {}),
    ...(o.replays ? { replays: o.replays } : {}),
  });
  if (!check.ok) {
    if (!check.replay) throw new HexEdgeError('FORBIDDEN', `request refused: ${check.reason}`);
    // A genuine forward, refused only as a copy (or as too old to tell): its own codes, so the gateway
    // that really sent it forwards it again with a later time instead of counting it against this node.
    o.metrics?.forwardReplaysRefused.inc({ reason: check.replay });
    const code = check.replay === 'replayed' ? 'REPLAYED' : 'STALE_MESSAGE';
    throw new HexEdgeError(code, `request refused: ${check.reason}`);
  }
  return bytes;
}

/**
 * `POST /v2/models/{name}[/versions/{v}]/infer` without the HTTP layer: hono's route (oip-app.ts) and
 * the Node listener's direct route (node/oip-listener.ts) both call it, so both answer alike. Throws
 * a HexEdgeError for a refused request (`errorAnswer` makes its answer).
 */
export function createInferHandler(o: InferHandlerOptions): (call: InferCall) => Promise<HttpAnswer> {
  const { models, keys, metrics, now } = o;
  return async (call): Promise<HttpAnswer> => {
    const started = performance.now();
    const scheduler = models.resolve(call.name, call.version);
    const m = scheduler.model.manifest;
    const labels = { model: m.name, version: m.version };
    const hints = readRequestHints(call.header);
    const hop = startNodeHop({ route: 'infer', model: m, hints });
    try {
      const { json, binaryInputs } = parseInferBody(
        call,
        await readSignedBody(o, call, { route: 'infer', name: m.name, version: m.version }),
      );
      const request = parseInferenceRequest(json);
      const given = request.inputs.map((i) => binaryInputs.get(i.name) ?? i);
      const inputs = checkInputs({ model: m.name, specs: m.inputs, inputs: given });
      const outputNames = request.outputs?.map((o) => o.name);
      for (const name of outputNames ?? []) {
        if (!m.outputs.some((o) => o.name === name)) {
          throw new HexEdgeError(
            'INVALID_TENSOR',
            `model ${m.name} has no output '${name}' (outputs: ${m.outputs.map((o) => o.name).join(', ')})`,
          );
        }
      }
      const submitted = scheduler.submit(inputs, outputNames, hints);
      // Hashed while the model runs (on its worker thread): the inputs are not given away to the run.
      const inputDigest = o.crypto.tensorsDigest(inputs);
      const result = await submitted;
      const requestId = request.id ?? crypto.randomUUID();
      const outputDigest = o.crypto.tensorsDigest(result.outputs);
      const signed = signReceipt({
        signer: o.signer,
        keys,
        requestId,
        manifest: m,
        inputDigest: typeof inputDigest === 'string' ? inputDigest : await inputDigest,
        outputDigest: typeof outputDigest === 'string' ? outputDigest : await outputDigest,
        serviceTimeMs: result.serviceTimeMs,
        nowMs: now(),
      });
      const receipt = signed instanceof Promise ? await signed : signed;
      const head = {
        model_name: m.name,
        model_version: m.version,
        id: requestId,
        parameters: {
          [RECEIPT_PARAMETER]: JSON.stringify(
            withReceiptMetadata(receipt, {
              hop,
              hints,
              queueMs: result.queueMs,
              runMs: result.serviceTimeMs,
            }),
          ),
        },
      };
      const { body, headerLength } = encodeResponse(head, result.outputs, binaryOutputNames(request));
      metrics?.requests.inc({ ...labels, outcome: 'ok' });
      metrics?.latency.observe(labels, (performance.now() - started) / 1000);
      const accepted =
        o.macs && o.callers ? { ...forwardMacAccepted, ...exchangeAccepted } : exchangeAccepted;
      if (headerLength === undefined)
        return { status: 200, headers: { 'content-type': 'application/json', ...accepted }, body };
      return {
        status: 200,
        headers: {
          'content-type': 'application/octet-stream',
          [HEADER_LENGTH]: String(headerLength),
          ...accepted,
        },
        body,
      };
    } catch (err) {
      metrics?.requests.inc({ ...labels, outcome: isHexEdgeError(err) ? err.code : 'INTERNAL' });
      hop.end({ error: isHexEdgeError(err) ? err.code : 'INTERNAL' });
      throw err;
    }
  };
}
