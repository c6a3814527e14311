import {
  checkTensor,
  MAX_NODE_ANSWER_BYTES,
  oipInferenceResponseSchema,
  readBoundedBody,
  predictResponseSchema,
  RECEIPT_PARAMETER,
  signedReceiptSchema,
  tensorToJson,
} from '@hexedge/protocol';
import type { CheckerNode, InferenceRequest, ReRun } from '../spot-check/spot-checker.ts';
import type { HttpFetch } from './trust-publisher.ts';

/** A checker that has not answered in this long is "no answer" (the spot checker then needs the others). */
export const DEFAULT_RERUN_TIMEOUT_MS = 10_000;

/**
 * Spot-check re-runs over a checker node's OIP v2 endpoint (answers read up to `maxAnswerBytes`,
 * MAX_NODE_ANSWER_BYTES by default), exactly as the gateway sends a request:
 * tensors to `/infer`, domain input to `/predict`. The answer's signed receipt comes back in the
 * response's parameters; the spot checker verifies it. Any transport or shape fault throws, which the
 * spot checker counts as no answer.
 */
export function httpReRun(options: { fetch: HttpFetch; timeoutMs?: number; maxAnswerBytes?: number }): ReRun {
  const timeoutMs = options.timeoutMs ?? DEFAULT_RERUN_TIMEOUT_MS;
  const maxBytes = options.maxAnswerBytes ?? MAX_NODE_ANSWER_BYTES;
  return async (node: CheckerNode, request: InferenceRequest) => {
    if (!node.url) throw new Error(`checker ${node.nodeId} has no URL`);
    if (request.kind !== 'tensors' && request.kind !== 'domain')
      throw new Error(`a ${String((request as { kind: unknown }).kind)} request cannot be re-run`);
    const id = `spot-${crypto.randomUUID()}`;
    const base = `/v2/models/${encodeURIComponent(request.modelName)}/versions/${encodeURIComponent(request.modelVersion)}`;
    const isTensors = request.kind === 'tensors';
    const body = isTensors
      ? { id, inputs: request.inputs.map((t) => tensorToJson(checkTensor(t))) }
      : { id, input: request.input };
    const res = await options.fetch(new URL(`${base}/${isTensors ? 'infer' : 'predict'}`, node.url).href, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!res.ok) {
      await res.body?.cancel();
      throw new Error(`checker ${node.nodeId} answered HTTP ${res.status}`);
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
