import {
  HexEdgeError,
  isHexEdgeError,
  oipInferenceRequestSchema,
  parseWith,
  RECEIPT_PARAMETER,
  tensorToJson,
  type NodeKeyPair,
  type OipInferenceResponse,
} from '@hexedge/protocol';
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { checkInputs } from './input-check.ts';
import type { ModelSet } from './model-set.ts';
import { signReceipt } from './receipt.ts';

/** Largest infer body a node accepts (JSON numbers take ~10 bytes each, so ~3 M floats). */
export const MAX_OIP_BODY_BYTES = 32 * 1024 * 1024;
export const SERVER_NAME = 'hexedge-edge-node';
export const SERVER_VERSION = '0.1.0';

export interface OipAppOptions {
  models: ModelSet;
  keys: NodeKeyPair;
  isReady: () => boolean;
  now?: () => number;
}

/** OIP v2 error object (`{ "error": string }`), plus our stable code for machines. */
function errorResponse(c: Context, err: unknown): Response {
  const e = isHexEdgeError(err) ? err : new HexEdgeError('INTERNAL', 'internal error');
  if (!isHexEdgeError(err)) console.error('edge-node: unexpected error', err);
  return c.json({ error: e.message, code: e.code }, e.httpStatus as 400);
}

/** The Open Inference Protocol v2 REST API (shared/specs/inference_rest.md) over a node's models. */
export function createOipApp(options: OipAppOptions): Hono {
  const { models, keys, isReady } = options;
  const now = options.now ?? Date.now;
  const app = new Hono();
  app.onError((err, c) => errorResponse(c, err));
  app.notFound((c) => errorResponse(c, new HexEdgeError('NOT_FOUND', `no route ${c.req.method} ${c.req.path}`)));

  app.get('/v2/health/live', (c) => c.json({ live: true }));
  app.get('/v2/health/ready', (c) => c.json({ ready: isReady() }, isReady() ? 200 : 503));
  app.get('/v2', (c) => c.json({ name: SERVER_NAME, version: SERVER_VERSION, extensions: [] }));

  const metadata = (c: Context) => {
    const model = models.resolve(c.req.param('name')!, c.req.param('version'));
    const m = model.manifest;
    return c.json({
      name: m.name,
      versions: models.versionsOf(m.name),
      platform: 'onnxruntime_onnx',
      inputs: m.inputs,
      outputs: m.outputs,
    });
  };
  app.get('/v2/models/:name', metadata);
  app.get('/v2/models/:name/versions/:version', metadata);

  const ready = (c: Context) => {
    const model = models.resolve(c.req.param('name')!, c.req.param('version'));
    return c.json({ name: model.manifest.name, ready: true });
  };
  app.get('/v2/models/:name/ready', ready);
  app.get('/v2/models/:name/versions/:version/ready', ready);

  const limit = bodyLimit({
    maxSize: MAX_OIP_BODY_BYTES,
    onError: () => {
      throw new HexEdgeError('PAYLOAD_TOO_LARGE', `request body exceeds ${MAX_OIP_BODY_BYTES} bytes`);
    },
  });

  const infer = async (c: Context) => {
    const model = models.resolve(c.req.param('name')!, c.req.param('version'));
    let json: unknown;
    try {
      json = await c.req.json();
    } catch {
      throw new HexEdgeError('INVALID_JSON', 'request body is not valid JSON');
    }
    const request = parseWith(oipInferenceRequestSchema, json, { what: 'inference request' });
    const m = model.manifest;
    const inputs = checkInputs({ model: m.name, specs: m.inputs, inputs: request.inputs });
    const outputNames = request.outputs?.map((o) => o.name);
    for (const name of outputNames ?? []) {
      if (!m.outputs.some((o) => o.name === name)) {
        throw new HexEdgeError('INVALID_TENSOR', `model ${m.name} has no output '${name}' (outputs: ${m.outputs.map((o) => o.name).join(', ')})`);
      }
    }
    const { result: outputs, serviceTimeMs } = await models.track(model, () => model.run(inputs, outputNames));
    const requestId = request.id ?? crypto.randomUUID();
    const receipt = await signReceipt({ keys, requestId, manifest: m, inputs, outputs, serviceTimeMs, nowMs: now() });
    const body: OipInferenceResponse = {
      model_name: m.name,
      model_version: m.version,
      id: requestId,
      parameters: { [RECEIPT_PARAMETER]: JSON.stringify(receipt) },
      outputs: outputs.map(tensorToJson),
    };
    return c.json(body);
  };
  app.post('/v2/models/:name/infer', limit, infer);
  app.post('/v2/models/:name/versions/:version/infer', limit, infer);
  return app;
}
