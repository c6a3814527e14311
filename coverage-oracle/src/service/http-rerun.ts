import {
  checkTensor,
  MAX_NODE_ANSWER_BYTES,
  readBoundedBody,
  oipInferenceResponseSchema,
  predictResponseSchema,
  RECEIPT_PARAMETER,
  RERUN_PATH,
  signedReceiptSchema,
  signRerun,
  tensorToJson,
  type NodeKeyPair,
  type RerunBody,
  DEADLINE_HEADER,
  formatTraceparent,
  PRIORITY_HEADER,
  TRACEPARENT_HEADER,
} from '@hexedge/protocol';
import type { CheckerNode, InferenceRequest, ReRun } from '../spot-check/spot-checker.ts';
import type { HttpFetch } from './trust-publisher.ts';

/** A checker that has not answered in this long is "no answer" (the spot checker then needs the others). */
export const DEFAULT_RERUN_TIMEOUT_MS = 10_000;

/**
 * Spot-check re-runs through the gateway the checker is registered with (`POST {gateway}/v1/oracle/rerun`,
 * signed by the oracle): the gateway forwards the request to the node exactly as it forwards live
 * traffic, so the node cannot tell a check from a customer. The node's OIP answer comes back as it is;
 * its signed receipt is in the response's parameters and the spot checker verifies it. Any transport
 * or shape fault throws, which the spot checker counts as no answer.
 */
export function httpReRun(options: {
  fetch: HttpFetch;
  oracle: NodeKeyPair;
  /** The gateway that listed the node. */
  gatewayOf: (nodeId: string) => string | undefined;
  timeoutMs?: number;
  /** Answers are read no further than this (MAX_NODE_ANSWER_BYTES by default). */
  maxAnswerBytes?: number;
}): ReRun {
  const timeoutMs = options.timeoutMs ?? DEFAULT_RERUN_TIMEOUT_MS;
  const maxBytes = options.maxAnswerBytes ?? MAX_NODE_ANSWER_BYTES;
  return async (node: CheckerNode, request: InferenceRequest, hints) => {
    const gatewayUrl = options.gatewayOf(node.nodeId);
    if (!gatewayUrl) throw new Error(`checker ${node.nodeId} is listed by no gateway`);
    if (request.kind !== 'tensors' && request.kind !== 'domain')
      throw new Error(`a ${String((request as { kind: unknown }).kind)} request cannot be re-run`);
    const isTensors = request.kind === 'tensors';
    const wire = (
      isTensors
        ? {
            kind: 'tensors',
            modelName: request.modelName,
            modelVersion: request.modelVersion,
            inputs: request.inputs.map((t) => tensorToJson(checkTensor(t))),
          }
        : {
            kind: 'domain',
            modelName: request.modelName,
            modelVersion: request.modelVersion,
            input: request.input,
          }
    ) as RerunBody['request'];
    const signed = await signRerun({
      oracle: options.oracle,
      targetNodeId: node.nodeId,
      request: wire,
      nowMs: Date.now(),
    });
    const res = await options.fetch(new URL(RERUN_PATH, gatewayUrl).href, {
      method: 'POST',
      // The gateway passes these on to the checker as it does for live traffic (trace, priority, deadline).
      headers: {
        'content-type': 'application/json',
        ...(hints?.trace ? { [TRACEPARENT_HEADER]: formatTraceparent(hints.trace) } : {}),
        ...(hints?.priority ? { [PRIORITY_HEADER]: hints.priority } : {}),
        ...(hints?.deadlineMs !== undefined ? { [DEADLINE_HEADER]: String(hints.deadlineMs) } : {}),
      },
      body: JSON.stringify(signed),
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!res.ok) {
      await res.body?.cancel();
      throw new Error(`checker ${node.nodeId} (via ${gatewayUrl}) answered HTTP ${res.status}`);
    }
    // The checker's answer is read no further than an answer can be (a giant one is no answer).
    const bytes = await readBoundedBody(res, { maxBytes, what: `checker ${node.nodeId}'s answer` });
    const json: unknown = JSON.parse(new TextDecoder().decode(bytes));
    if (isTensors) {
      const parsed = oipInferenceResponseSchema.parse(json);
      const receipt = signedReceiptSchema.parse(JSON.parse(String(parsed.parameters?.[RECEIPT_PARAMETER])));
      return { result: { kind: 'tensors', outputs: parsed.outputs.map((o) => checkTensor(o)) }, receipt };
    }
    const parsed = predictResponseSchema.parse(json);
    const receipt = signedReceiptSchema.parse(JSON.parse(String(parsed.parameters?.[RECEIPT_PARAMETER])));
    return { result: { kind: 'domain', output: parsed.output }, receipt };
  };
}
