import {
  checkTensor,
  HexEdgeError,
  inferRequestSchema,
  oipInferenceResponseSchema,
  parseWith,
  type ErrorCode,
  type InferResponse,
  tensorToJson,
  type Tensor,
} from '@hexedge/protocol';
import { servesModel, type Candidate, type Placement } from '@hexedge/placement';
import type { Context } from 'hono';
import { readJsonBody } from '../http-errors.ts';
import { resolveLocation } from '../location.ts';
import type { NodeClient } from '../node-client.ts';
import { checkReceipt } from '../receipt-check.ts';

/** How long one node may take before the gateway moves on to the next candidate. */
export const NODE_TIMEOUT_MS = 10_000;

export interface InferRouteOptions {
  placement: Placement;
  nodeClient: NodeClient;
  log?: (message: string) => void;
}

/** A node failure worth trying the next candidate for (connection error, timeout, 5xx, bad receipt). */
class NodeFault extends Error {}

function nodeError(status: number, body: unknown, nodeId: string): HexEdgeError {
  const b = body as { error?: unknown; code?: unknown } | null;
  const message = typeof b?.error === 'string' ? b.error : `node answered HTTP ${status}`;
  const code = (typeof b?.code === 'string' ? b.code : status === 404 ? 'MODEL_NOT_FOUND' : 'INVALID_REQUEST') as ErrorCode;
  return new HexEdgeError(code, message, { nodeId });
}

/**
 * POST /v1/infer: validate, place, forward over OIP v2, check the receipt, answer. A node that fails
 * (unreachable, 5xx, bad receipt) is skipped for the next one on placement's failover list; a 4xx from a
 * node is the request's fault and goes straight back to the client.
 */
export function inferHandler(options: InferRouteOptions) {
  const { placement, nodeClient } = options;
  const log = options.log ?? (() => {});

  async function tryNode(candidate: Candidate, ctx: { model: string; version?: string; id: string; inputs: Tensor[]; outputs?: { name: string }[] }) {
    const entry = servesModel(candidate.node, ctx.model, ctx.version)!;
    const started = performance.now();
    let answer;
    try {
      answer = await nodeClient.infer({
        nodeUrl: candidate.node.url,
        model: ctx.model,
        version: entry.version,
        request: { id: ctx.id, inputs: ctx.inputs.map(tensorToJson), ...(ctx.outputs ? { outputs: ctx.outputs } : {}) },
        timeoutMs: NODE_TIMEOUT_MS,
      });
    } catch (err) {
      throw new NodeFault(`node ${candidate.node.id} unreachable: ${(err as Error).message}`);
    }
    const nodeMs = performance.now() - started;
    if (answer.status >= 500) throw new NodeFault(`node ${candidate.node.id} answered ${answer.status}`);
    if (answer.status !== 200) throw nodeError(answer.status, answer.body, candidate.node.id);
    const parsed = oipInferenceResponseSchema.safeParse(answer.body);
    if (!parsed.success) throw new NodeFault(`node ${candidate.node.id} sent a malformed OIP response`);
    const outputs = parsed.data.outputs.map((o) => checkTensor(o));
    try {
      const receipt = await checkReceipt({
        parameters: parsed.data.parameters,
        nodeId: candidate.node.id,
        requestId: ctx.id,
        modelContentId: entry.contentId,
        inputs: ctx.inputs,
        outputs,
      });
      return { response: parsed.data, outputs, receipt, nodeMs, version: entry.version };
    } catch (err) {
      throw new NodeFault((err as Error).message);
    }
  }

  return async (c: Context) => {
    const started = performance.now();
    const request = parseWith(inferRequestSchema, await readJsonBody(c), { what: 'infer request' });
    const location = resolveLocation(request.location);
    const inputs = request.inputs.map((t) => checkTensor(t));
    const { model, version } = request;
    if (!placement.isKnownModel(model, version)) {
      throw new HexEdgeError('MODEL_NOT_FOUND', `no node serves model '${model}'${version ? ` version '${version}'` : ''}`);
    }
    const candidates = placement.candidates({ location, model, ...(version ? { version } : {}) });
    const placementMs = performance.now() - started;
    if (candidates.length === 0) {
      throw new HexEdgeError('NO_NODE_AVAILABLE', `no healthy node can serve model '${model}' right now`);
    }
    const id = request.id ?? crypto.randomUUID();
    const faults: string[] = [];
    for (const candidate of candidates) {
      try {
        const r = await tryNode(candidate, { model, ...(version ? { version } : {}), id, inputs, ...(request.outputs ? { outputs: request.outputs } : {}) });
        const body: InferResponse = {
          id,
          model_name: r.response.model_name,
          model_version: r.version,
          outputs: r.outputs.map(tensorToJson),
          node: { id: candidate.node.id, cell: candidate.node.cell, distanceKm: Math.round(candidate.distanceKm * 1000) / 1000 },
          timing: { placementMs: round(placementMs), nodeMs: round(r.nodeMs), totalMs: round(performance.now() - started) },
          receipt: r.receipt,
        };
        return c.json(body);
      } catch (err) {
        if (!(err instanceof NodeFault)) throw err;
        log(`infer ${id}: ${err.message}; trying the next node`);
        faults.push(err.message);
      }
    }
    throw new HexEdgeError('NODE_FAILED', `every candidate node failed: ${faults.join('; ')}`);
  };
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;
