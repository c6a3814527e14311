import {
  bytesToBase64Url,
  checkTensor,
  signBody,
  tensorToJson,
  type InferRequest,
  type InferResponse,
  type NodeKeyPair,
} from '@hexedge/protocol';

/**
 * The reports the gateway sends the oracle about its answers (ReceiptForwarder, oracle-forwarder.ts
 * posts them): a `receipt` report per checked answer, and the nonces every report carries.
 */

export interface Answered {
  request: InferRequest;
  response: InferResponse;
  /** A region-bound key's answer: only digests leave (its raw inputs and outputs stay in its region). */
  digestsOnly?: boolean;
}

const NONCE_BYTES = 16;
/**
 * Report nonces drawn from the CSPRNG this many at a time: one `getRandomValues` call (~7 µs under the
 * load test, profiled) per 256 reports instead of one each. The bytes are as random either way.
 */
const NONCES_PER_DRAW = 256;
let noncePool = new Uint8Array(0);
let nonceAt = 0;

/** A fresh random report nonce (16 bytes, base64url), as unique as one drawn alone. */
export function reportNonce(): string {
  if (nonceAt + NONCE_BYTES > noncePool.length) {
    noncePool = crypto.getRandomValues(new Uint8Array(NONCE_BYTES * NONCES_PER_DRAW));
    nonceAt = 0;
  }
  const nonce = bytesToBase64Url(noncePool.subarray(nonceAt, nonceAt + NONCE_BYTES));
  nonceAt += NONCE_BYTES;
  return nonce;
}

/** What becomes of a report body: signed alone (the default), or kept for a batch signature. */
export type ReportSigner<T> = (body: { nodeId: string } & Record<string, unknown>) => Promise<T>;

/**
 * The signed `receipt` report for one checked answer (kind 'report', by the gateway's report key): the
 * receipt with the request and result it covers, tensors as the node digested them, so the oracle can
 * re-run it. What the forwarder posts; exported for tools that re-send one.
 */
export function signReceiptReport<T = Awaited<ReturnType<typeof signBody>>>(
  { request, response, digestsOnly }: Answered,
  keys: NodeKeyPair,
  sign: ReportSigner<T> = (body) => signBody('report', body, keys.privateKey) as Promise<T>,
): Promise<T> {
  const model = { modelName: response.model_name, modelVersion: response.model_version };
  // The signed receipt only; the trace and the request's priority and deadline go beside it (context).
  // v1 ({ body, signature }) or v2 ({ v, body, batch }) as the node signed it, without the metadata.
  const { metadata, ...receipt } = response.receipt;
  const { priority, deadlineMs } = request.policy ?? {};
  const hints = {
    ...(metadata?.traceparent ? { traceparent: metadata.traceparent } : {}),
    ...(priority ? { priority } : {}),
    ...(deadlineMs !== undefined ? { deadlineMs: Math.ceil(deadlineMs) } : {}),
  };
  const trace = Object.keys(hints).length > 0 ? { context: hints } : {};
  const work = digestsOnly
    ? // The receipt's signed digests bind the work; the data itself stays in the key's region.
      { request: { kind: 'digests' as const, ...model }, result: { kind: 'digests' as const } }
    : // Tensors as the node digested them: flat data, normalised to their datatype.
      {
        request: request.inputs
          ? {
              kind: 'tensors' as const,
              ...model,
              inputs: request.inputs.map((t) => tensorToJson(checkTensor(t))),
            }
          : { kind: 'domain' as const, ...model, input: request.input },
        result: response.outputs
          ? { kind: 'tensors' as const, outputs: response.outputs.map((t) => tensorToJson(checkTensor(t))) }
          : { kind: 'domain' as const, output: response.output },
      };
  return sign({
    type: 'receipt' as const,
    nodeId: keys.nodeId,
    nonce: reportNonce(),
    issuedAtMs: Date.now(),
    receipt,
    ...trace,
    ...work,
  });
}
