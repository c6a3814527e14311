import {
  EXCHANGE_PATH,
  ForwardMacKeys,
  ForwardReplayGuard,
  ForwardRootCache,
  HexEdgeError,
  isHexEdgeError,
  jsonDigest,
  MAX_EXCHANGE_BYTES,
  parseWith,
  predictRequestSchema,
  RECEIPT_PARAMETER,
  type NodeKeyPair,
} from '@hexedge/protocol';
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { BINARY_EXTENSION } from './binary-extension.ts';
import { createExchangeHandler } from './exchange-handler.ts';
import {
  createInferHandler,
  errorAnswer,
  exchangeAccepted,
  forwardMacAccepted,
  readSignedBody,
  type InferCall,
  type InferHandlerOptions,
  type HttpAnswer,
} from './infer-handler.ts';
import { checkInputs } from './input-check.ts';
import type { NodeMetrics } from './metrics.ts';
import type { ModelSet } from './model-set.ts';
import { getPipeline } from '../pipelines/index.ts';
import { webReceiptCrypto, type ReceiptCrypto } from './receipt-crypto.ts';
import { signReceipt } from './receipt.ts';
import { createReceiptSigner, type ReceiptSigner } from './receipt-signer.ts';
import { registerArtifactRoutes, type ArtifactSource } from './artifact-routes.ts';
import { registerOracleRoutes, type OracleRouteOptions } from './challenge-route.ts';
import { readRequestHints } from '../scheduler/request-hints.ts';
import { startNodeHop, withReceiptMetadata } from '../trace/node-hop.ts';

/** Largest infer body a node accepts (JSON numbers take ~10 bytes each, so ~3 M floats). */
export const MAX_OIP_BODY_BYTES = 32 * 1024 * 1024;
export const SERVER_NAME = 'hexedge-edge-node';
export const SERVER_VERSION = '0.1.0';

export interface OipAppOptions {
  models: ModelSet;
  keys: NodeKeyPair;
  isReady: () => boolean;
  metrics?: NodeMetrics;
  now?: () => number;
  /** Artifacts this node serves to peers (`/v1/artifacts/…`); none when absent. */
  artifacts?: ArtifactSource;
  /** Latency challenges and probes from the coverage oracle (`/v1/oracle/…`); none when absent. */
  oracle?: OracleRouteOptions;
  /** Receipt hashing and signing; WebCrypto when absent (the Node builder passes node:crypto's). */
  crypto?: ReceiptCrypto;
  /** How receipts are signed: batch-signed over `crypto` when absent (one root per batch of answers). */
  receipts?: ReceiptSigner;
  /**
   * Serve `/infer` and `/predict` only to requests a known gateway or oracle signed for this node
   * (protocol's forward signature): a relay cannot sell this node's work as its own. Absent: anyone
   * may call (a node's own tools and tests).
   */
  callers?: { isKnown(forwarderId: string): boolean | Promise<boolean> };
  /**
   * With `callers`: also take a forward MAC (protocol's forward-mac.ts: HMAC under a key agreed from the
   * node's and the forwarder's Ed25519 identities) in place of the signature, and say so on answers.
   * Default true; false acts as a node from before forward MACs (tests of the gateway's fallback).
   */
  forwardMacs?: boolean;
}

/** OIP v2 error object (`{ "error": string }`), plus our stable code; 503s say when to come back. */
function errorResponse(err: unknown): Response {
  const answer = errorAnswer(err);
  return new Response(answer.body as string, { status: answer.status, headers: answer.headers });
}

/**
 * The infer route of an app made here, for a Node listener that serves it straight off the socket
 * (node/oip-listener.ts: no web Request/Response per call); the same handler as the hono route.
 */
export interface DirectInferRoute {
  infer(call: InferCall): Promise<HttpAnswer>;
  maxBodyBytes: number;
  /** `POST /v2/exchange` (exchange-handler.ts): the exchange's body in, its answer out; throws when malformed. */
  exchange(bytes: Uint8Array): Promise<HttpAnswer>;
}
const directRoutes = new WeakMap<Hono, DirectInferRoute>();
export const directInferRoute = (app: Hono): DirectInferRoute | undefined => directRoutes.get(app);

const decoder = new TextDecoder();

/**
 * The body limit, checked from Content-Length where the request has one (the HTTP parser holds the
 * body to it), so the body is then read through the server's direct path. hono's bodyLimit reads
 * `c.req.raw.body`, which makes @hono/node-server build a full web Request and stream for every
 * request (~9 % of a node's CPU under load, profiled); it still guards chunked bodies, which have
 * no length up front.
 */
function declaredBodyLimit(maxBytes: number): MiddlewareHandler {
  const tooLarge = () => {
    throw new HexEdgeError('PAYLOAD_TOO_LARGE', `request body exceeds ${maxBytes} bytes`);
  };
  const streaming = bodyLimit({ maxSize: maxBytes, onError: tooLarge });
  return (c, next) => {
    const length = c.req.header('content-length');
    const declared =
      length !== undefined && c.req.header('transfer-encoding') === undefined && /^\d+$/.test(length);
    if (!declared) return streaming(c, next);
    if (Number(length) > maxBytes) tooLarge();
    return next();
  };
}

/** The Open Inference Protocol v2 REST API (shared/specs/inference_rest.md) over a node's models. */
export function createOipApp(options: OipAppOptions): Hono {
  const { models, keys, isReady, metrics } = options;
  const receiptCrypto = options.crypto ?? webReceiptCrypto;
  const signer = options.receipts ?? createReceiptSigner({ crypto: receiptCrypto, keys });
  const now = options.now ?? Date.now;
  const core: InferHandlerOptions = {
    models,
    keys,
    metrics,
    now,
    crypto: receiptCrypto,
    signer,
    callers: options.callers,
    roots: new ForwardRootCache(),
    replays: new ForwardReplayGuard(),
    ...(options.callers && options.forwardMacs !== false ? { macs: new ForwardMacKeys({ keys }) } : {}),
  };
  const inferCore = createInferHandler(core);
  const readSigned = (c: Context, route: 'infer' | 'predict', m: { name: string; version: string }) =>
    readSignedBody(
      core,
      {
        header: (name) => c.req.header(name),
        readBody: async () => new Uint8Array(await c.req.arrayBuffer()),
      },
      { route, ...m },
    );
  const app = new Hono();
  app.onError((err) => errorResponse(err));
  app.notFound((c) => errorResponse(new HexEdgeError('NOT_FOUND', `no route ${c.req.method} ${c.req.path}`)));
  // Parts other than infer go through this very app, so they take the routes a single request takes.
  const exchange = createExchangeHandler({
    infer: inferCore,
    fallback: (request) => app.fetch(request),
    maxBodyBytes: MAX_OIP_BODY_BYTES,
    metrics,
  });
  directRoutes.set(app, { infer: inferCore, maxBodyBytes: MAX_OIP_BODY_BYTES, exchange });
  app.post(EXCHANGE_PATH, declaredBodyLimit(MAX_EXCHANGE_BYTES), async (c) => {
    const answer = await exchange(new Uint8Array(await c.req.arrayBuffer()));
    return new Response(answer.body as Uint8Array<ArrayBuffer>, { headers: answer.headers });
  });

  app.get('/v2/health/live', (c) => c.json({ live: true }));
  app.get('/v2/health/ready', (c) => c.json({ ready: isReady() }, isReady() ? 200 : 503));
  app.get('/v2', (c) =>
    c.json({ name: SERVER_NAME, version: SERVER_VERSION, extensions: [BINARY_EXTENSION] }),
  );
  if (options.artifacts) registerArtifactRoutes(app, options.artifacts);
  if (options.oracle) registerOracleRoutes(app, options.oracle);
  if (metrics) {
    app.get('/metrics', async (c) =>
      c.text(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType }),
    );
  }

  const metadata = (c: Context) => {
    const m = models.resolve(c.req.param('name')!, c.req.param('version')).model.manifest;
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

  const ready = (c: Context) =>
    c.json({
      name: models.resolve(c.req.param('name')!, c.req.param('version')).model.manifest.name,
      ready: true,
    });
  app.get('/v2/models/:name/ready', ready);
  app.get('/v2/models/:name/versions/:version/ready', ready);

  const limit = declaredBodyLimit(MAX_OIP_BODY_BYTES);

  const infer = async (c: Context) => {
    const answer = await inferCore({
      name: c.req.param('name')!,
      version: c.req.param('version'),
      header: (name) => c.req.header(name),
      readBody: async () => new Uint8Array(await c.req.arrayBuffer()),
    });
    return new Response(answer.body as string | Uint8Array<ArrayBuffer>, { headers: answer.headers });
  };
  app.post('/v2/models/:name/infer', limit, infer);
  app.post('/v2/models/:name/versions/:version/infer', limit, infer);

  /** Domain values in, domain answer out, through the pipeline the model's manifest names. */
  const predict = async (c: Context) => {
    const started = performance.now();
    const scheduler = models.resolve(c.req.param('name')!, c.req.param('version'));
    const m = scheduler.model.manifest;
    const labels = { model: m.name, version: m.version };
    const hints = readRequestHints((name) => c.req.header(name));
    const hop = startNodeHop({ route: 'predict', model: m, hints });
    try {
      const pipeline = m.pipeline ? getPipeline(m.pipeline) : undefined;
      if (!pipeline)
        throw new HexEdgeError(
          'NOT_FOUND',
          `model ${m.name} has no pre/post-processing pipeline; use /infer with tensors`,
        );
      const bytes = await readSigned(c, 'predict', m);
      let json: unknown;
      try {
        json = JSON.parse(decoder.decode(bytes));
      } catch {
        throw new HexEdgeError('INVALID_JSON', 'request body is not valid JSON');
      }
      const request = parseWith(predictRequestSchema, json, { what: 'predict request' });
      let serviceTimeMs = 0;
      let queueMs = 0;
      const output = await pipeline.run({
        input: request.input,
        manifest: m,
        runModel: async (inputs) => {
          const checked = checkInputs({ model: m.name, specs: m.inputs, inputs });
          const r = await scheduler.submit(checked, undefined, hints);
          serviceTimeMs += r.serviceTimeMs;
          queueMs += r.queueMs;
          return r.outputs;
        },
      });
      const requestId = request.id ?? crypto.randomUUID();
      const [inputDigest, outputDigest] = await Promise.all([jsonDigest(request.input), jsonDigest(output)]);
      const receipt = await signReceipt({
        signer,
        keys,
        requestId,
        manifest: m,
        inputDigest,
        outputDigest,
        serviceTimeMs,
        nowMs: now(),
      });
      metrics?.requests.inc({ ...labels, outcome: 'ok' });
      metrics?.latency.observe(labels, (performance.now() - started) / 1000);
      if (core.macs) for (const [name, value] of Object.entries(forwardMacAccepted)) c.header(name, value);
      for (const [name, value] of Object.entries(exchangeAccepted)) c.header(name, value);
      return c.json({
        model_name: m.name,
        model_version: m.version,
        id: requestId,
        output,
        parameters: {
          [RECEIPT_PARAMETER]: JSON.stringify(
            withReceiptMetadata(receipt, { hop, hints, queueMs, runMs: serviceTimeMs }),
          ),
        },
      });
    } catch (err) {
      metrics?.requests.inc({ ...labels, outcome: isHexEdgeError(err) ? err.code : 'INTERNAL' });
      hop.end({ error: isHexEdgeError(err) ? err.code : 'INTERNAL' });
      throw err;
    }
  };
  app.post('/v2/models/:name/predict', limit, predict);
  app.post('/v2/models/:name/versions/:version/predict', limit, predict);
  return app;
}
