import {
  HexEdgeError,
  isValidSignature,
  DEADLINE_HEADER,
  MAX_RERUN_AGE_MS,
  parseDeadlineMs,
  parsePriority,
  parseTraceparent,
  PRIORITY_HEADER,
  signedRerunSchema,
  startHop,
  TRACEPARENT_HEADER,
  type Tensor,
} from '@hexedge/protocol';
import type { NodeRecord } from '@hexedge/placement';
import type { Context } from 'hono';
import { readJsonBody } from '../http-errors.ts';
import type { InferService } from '../infer/infer-service.ts';
import type { TraceBook } from '../trace/trace-book.ts';
import { DEFAULT_DEADLINE_MS } from '../infer/failover-walk.ts';

/** Nonces remembered at most (a re-run a second, each remembered for a minute, fits many times over). */
const MAX_NONCES = 100_000;

/**
 * Re-run nonces already used. `claim` records one and says whether it was new, in one step: on the
 * Worker re-runs reach several isolates, so the book is one Durable Object there (a per-isolate memory
 * would take a captured re-run once in each isolate).
 */
export interface RerunNonces {
  claim(nonce: string, nowMs: number): boolean | Promise<boolean>;
}

/** Nonces of the last MAX_RERUN_AGE_MS in this process's memory (the Node gateway: one process). */
export function memoryRerunNonces(): RerunNonces {
  const seen = new Map<string, number>();
  return {
    claim(nonce, nowMs) {
      // Oldest first (insertion order): drop what has expired, and the oldest beyond the cap.
      for (const [old, atMs] of seen) {
        if (atMs >= nowMs - MAX_RERUN_AGE_MS && seen.size <= MAX_NONCES) break;
        seen.delete(old);
      }
      if (seen.has(nonce)) return false;
      seen.set(nonce, nowMs);
      return true;
    },
  };
}

/**
 * POST /v1/oracle/rerun: a configured oracle's spot-check re-run on one registered node, forwarded
 * exactly as live traffic is (InferService's one path to a node: same route, same signature, same
 * headers, same client), so the node cannot tell it is being checked. Signed by the oracle, fresh
 * (≤ MAX_RERUN_AGE_MS), each nonce once. The answer is the node's, as it came: the oracle checks its
 * receipt itself.
 */
export function oracleRerunHandler(options: {
  service: Pick<InferService, 'rerun'>;
  /** The registered node (the in-process registry, or the Worker's shard of it). */
  nodeOf: (nodeId: string) => NodeRecord | undefined | Promise<NodeRecord | undefined>;
  /** Where used nonces are kept; this process's memory when absent. */
  nonces?: RerunNonces;
  oracleIds: Iterable<string>;
  timeoutMs?: number;
  nowMs?: () => number;
  /** Where the re-run is added to the request whose trace it carries (the oracle's `traceparent`). */
  traces?: TraceBook;
}) {
  const now = options.nowMs ?? Date.now;
  const nonces = options.nonces ?? memoryRerunNonces();
  return async (c: Context) => {
    const handlerStarted = performance.now();
    const parsed = signedRerunSchema.safeParse(await readJsonBody(c));
    if (!parsed.success)
      throw new HexEdgeError(
        'INVALID_REQUEST',
        `re-run ${parsed.error.issues[0]?.path.join('.') || 'body'}: ${parsed.error.issues[0]?.message}`,
      );
    const { body } = parsed.data;
    if (![...options.oracleIds].includes(body.nodeId))
      throw new HexEdgeError('FORBIDDEN', `${body.nodeId} is not a configured oracle`);
    if (!(await isValidSignature('report', parsed.data)))
      throw new HexEdgeError('BAD_SIGNATURE', `re-run signature does not verify for oracle ${body.nodeId}`);
    const nowMs = now();
    if (Math.abs(nowMs - body.issuedAtMs) > MAX_RERUN_AGE_MS)
      throw new HexEdgeError(
        'STALE_MESSAGE',
        `re-run issuedAtMs ${body.issuedAtMs} is ${nowMs - body.issuedAtMs} ms from now (allowed: ${MAX_RERUN_AGE_MS})`,
      );
    if (!(await nonces.claim(body.nonce, nowMs)))
      throw new HexEdgeError('REPLAYED', `re-run nonce ${body.nonce} was already used`);
    const node = await options.nodeOf(body.targetNodeId);
    if (!node) throw new HexEdgeError('UNKNOWN_NODE', `node ${body.targetNodeId} is not registered here`);
    const { request } = body;
    // A region-bound key's receipt travels as digests only: there is nothing to re-run.
    if (request.kind === 'digests')
      throw new HexEdgeError(
        'INVALID_REQUEST',
        `a digests-only request (model ${request.modelName}@${request.modelVersion}) cannot be re-run`,
      );
    const timeoutMs = options.timeoutMs ?? 10_000;
    // The spot check joins the trace of the answer it checks, and carries that request's priority and
    // deadline (the oracle passes them on): the node sees what live traffic has.
    const parent = parseTraceparent(c.req.header(TRACEPARENT_HEADER));
    const priority = parsePriority(c.req.header(PRIORITY_HEADER));
    const deadlineMs = parseDeadlineMs(c.req.header(DEADLINE_HEADER)) ?? DEFAULT_DEADLINE_MS;
    const hop = startHop({
      tracer: 'hexedge-gateway',
      name: 'gateway spot-check re-run',
      kind: 'server',
      parent,
      attributes: { 'hexedge.node_id': node.id, 'hexedge.model': request.modelName },
    });
    const startedPerf = performance.now();
    const atMs = Date.now();
    const record = (ok: boolean, detail?: string) => {
      hop.end(ok ? {} : { error: detail ?? 'failed' });
      if (parent)
        options.traces?.addSpotCheck(parent.traceId, {
          atMs,
          durationMs: Math.round((performance.now() - startedPerf) * 1000) / 1000,
          nodeId: node.id,
          spanId: hop.context.spanId,
          ok,
          ...(detail ? { detail } : {}),
        });
    };
    const answer = await options.service
      .rerun({
        node,
        request: {
          modelName: request.modelName,
          modelVersion: request.modelVersion,
          ...(request.kind === 'tensors' ? { inputs: request.inputs as Tensor[] } : { input: request.input }),
        },
        signal: AbortSignal.timeout(timeoutMs),
        trace: hop.context,
        ...(priority ? { priority } : {}),
        // Counted from arrival, as live traffic's budget is: a round number would mark it as a check.
        deadlineMs: deadlineMs - (performance.now() - handlerStarted),
      })
      .catch((err: Error) => {
        record(false, 'unreachable');
        throw new HexEdgeError('NODE_FAILED', `node ${node.id} unreachable: ${err.message}`);
      });
    if (answer.status !== 200) {
      record(false, `HTTP ${answer.status}`);
      throw new HexEdgeError('NODE_FAILED', `node ${node.id} answered HTTP ${answer.status}`);
    }
    record(true);
    return c.json(answer.body as object);
  };
}
