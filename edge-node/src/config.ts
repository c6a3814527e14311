import { latLngSchema, MAX_BATCH_LEAVES, MAX_FORWARD_SKEW_MS, nodeIdSchema } from '@hexedge/protocol';
import { MAX_BATCH_DELAY_MS } from './server/receipt-signer.ts';
import { z } from 'zod';
import { parseModelRef } from './store/model-ref.ts';

const isModelRef = (value: string) => {
  try {
    parseModelRef(value);
    return true;
  } catch {
    return false;
  }
};

/** An edge node's config file (`node.yaml` in its data directory), written by `hexedge node init`. */
export const NODE_CONFIG_FILE = 'node.yaml';

export const nodeConfigSchema = z
  .object({
    location: latLngSchema,
    gatewayUrl: z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:8787'),
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(8080),
    modelsDir: z.string().min(1).default('models'),
    publicUrl: z.url({ protocol: /^https?$/ }).optional(),
    intraOpThreads: z.number().int().min(0).max(256).default(1),
    /** Worker threads, shared by every model, running their sessions off the event loop; 0 = on the event loop. */
    inferenceWorkers: z.union([z.literal('auto'), z.number().int().min(0).max(64)]).default('auto'),
    backend: z.enum(['auto', 'onnxruntime-node', 'onnxruntime-web']).default('auto'),
    wasmThreads: z.number().int().min(1).max(64).default(1),
    oracleIds: z.array(nodeIdSchema).max(16).default([]),
    /** Gateways (their report keys) whose signed requests this node serves, besides its own gateway's. */
    gatewayIds: z.array(nodeIdSchema).max(16).default([]),
    /**
     * How often (ms) the node re-reads its gateway's keys (GET /v1/gateway/identity) with no request
     * asking it to: a key the gateway dropped (rotated after a leak, or a restart with a fresh key) is
     * refused at most this long plus the grace (MAX_FORWARD_SKEW_MS) after the rotation, even if no
     * request with the new key arrives to make the node look sooner. One small GET per node per
     * interval at the gateway (10 000 nodes at 60 s: ~170/s, against 2 000/s of 5 s heartbeats).
     */
    gatewayKeysRefreshMs: z.number().int().min(1_000).max(3_600_000).default(60_000),
    /** Models this node should serve (content ids or name@version); `node run` pulls the missing ones. */
    models: z
      .array(z.string().refine(isModelRef, 'must be a content id (64 lowercase hex) or name@version'))
      .optional(),
    /** Peer nodes to pull models from, nearest first, before the gateway's origin registry. */
    peers: z.array(z.url({ protocol: /^https?$/ })).optional(),
    /** Receipts: one signature per batch of answers (v2, default) or one per answer (v1). */
    receipts: z
      .object({
        mode: z.enum(['batch', 'single']).default('batch'),
        maxBatchLeaves: z.number().int().min(1).max(MAX_BATCH_LEAVES).default(256),
        maxBatchDelayMs: z.number().min(0).max(MAX_BATCH_DELAY_MS).default(0),
      })
      .strict()
      .prefault({}),
    /** Each model's request queue (src/server/scheduler.ts, src/scheduler/): batching, bounds per priority. */
    scheduler: z
      .object({
        maxBatchSize: z.number().int().min(1).max(1024).optional(),
        maxQueueDelayUs: z.number().int().min(0).max(1_000_000).optional(),
        /** Requests queued per model past which normal priority is refused (low at half, high at 1.25×). */
        maxQueueSize: z.number().int().min(1).max(100_000).optional(),
        /** Or each level's admission limit explicitly (requests queued, all levels together). */
        queueLimits: z
          .object({
            high: z.number().int().min(1).max(100_000),
            normal: z.number().int().min(1).max(100_000),
            low: z.number().int().min(1).max(100_000),
          })
          .strict()
          .refine(
            (l) => l.high >= l.normal && l.normal >= l.low,
            'must be high ≥ normal ≥ low, so lower priority is refused first',
          )
          .optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export type NodeConfig = z.infer<typeof nodeConfigSchema>;

/** The config file as `hexedge node init` writes it: every key, its default and its unit, commented. */
export function renderNodeConfig(values: { lat: number; lng: number; gatewayUrl?: string }): string {
  return `# HexEdge edge node configuration (written by \`hexedge node init\`).
# Command-line flags of \`hexedge node run\` override these values.

# The location this node claims, in degrees (WGS 84). The coverage oracle verifies it.
location:
  lat: ${values.lat}
  lng: ${values.lng}

# The gateway this node registers with and sends heartbeats to. Default: http://127.0.0.1:8787
gatewayUrl: ${values.gatewayUrl ?? 'http://127.0.0.1:8787'}

# Address and TCP port of the node's Open Inference Protocol v2 server (port 0 = any free port).
# Defaults: 127.0.0.1 and 8080.
host: 127.0.0.1
port: 8080

# Directory of model artifacts (.onnx) and their manifests, relative to the data directory.
# Default: models
modelsDir: models

# URL the gateway and peer nodes use to reach this node. Default: http://<host>:<port>.
# publicUrl: https://node.example.net

# ONNX Runtime intra-op threads per model session (0 = one per core). Default: 1
intraOpThreads: 1

# Worker threads (onnxruntime-node) shared by every model, each holding a session of each, so model
# runs leave the event loop free for requests. auto = (cores - 1) / intraOpThreads, at least 1, at most 4; 0 runs
# sessions on the event loop. Default: auto
inferenceWorkers: auto

# Inference backend: auto (native onnxruntime-node, with CUDA/TensorRT/NPU providers where present,
# else WebAssembly), onnxruntime-node, or onnxruntime-web. Default: auto
backend: auto

# WebAssembly worker threads for onnxruntime-web (set explicitly; ORT's default is half the cores).
# Default: 1
wasmThreads: 1

# Models this node should serve, as content ids (SHA-256 of the .onnx) or name@version. \`hexedge node
# run\` pulls the ones the models directory lacks (peers first, then the gateway's origin registry) and
# keeps serving what it has if a pull fails. Default: none (serve whatever is in modelsDir).
# models:
#   - env-occupancy@1.0.0-int8
#   - 0f3c…(64 hex)

# Peer nodes to pull models from, nearest first, before the gateway. Default: none.
# peers:
#   - http://10.0.0.7:8080

# Coverage oracles (their Ed25519 public keys) whose latency probes this node answers as a
# challenger of other nodes. Challenges addressed to this node are answered for anyone. Default: none
# oracleIds:
#   - <43-character base64url key from GET /v1/oracle/identity>

# Each model's request queue. Requests carry a priority (high, normal, low) and a deadline from the
# gateway; past a level's limit (requests queued, all levels together) a request of that level is
# refused with 503 and Retry-After, so low priority is refused first; one whose deadline passes in
# the queue is dropped (504). A model with no run in flight runs a request at once (at the end of
# the event-loop turn, with the others that came in it); maxQueueDelayUs is how long a request waits
# for company while some of the model's sessions are busy. Defaults: maxBatchSize 32,
# maxQueueDelayUs 500, maxQueueSize 512 (normal refused at 512 queued, low at 256, high at 640).
# scheduler:
#   maxBatchSize: 32
#   maxQueueDelayUs: 500
#   maxQueueSize: 512
#   queueLimits: { high: 640, normal: 512, low: 256 }

# Inference requests are served only when a gateway or oracle this node knows signed them for it
# (so nobody can resell this node's work through a relay). Known: the oracles above, the gateway at
# gatewayUrl (its key is read from GET <gatewayUrl>/v1/gateway/identity), and these other gateways'
# keys (their reporterId). Default: none besides gatewayUrl's
# gatewayIds:
#   - <43-character base64url key from GET <gateway>/v1/gateway/identity>

# How often, in ms (1000–3600000), the node re-reads the keys its gateway publishes, besides when a
# request names a forwarder it does not know (at most every 10 s). A key the gateway no longer lists
# (rotated, or a restart with a fresh key) is accepted for ${MAX_FORWARD_SKEW_MS / 1000} s more (forwards signed before the
# rotation are still in flight), then refused: so a leaked old key works at most this interval plus
# ${MAX_FORWARD_SKEW_MS / 1000} s after the rotation. A failed read keeps the keys. Default: 60000
gatewayKeysRefreshMs: 60000

# Receipts. batch: answers that finish together (one dynamic batch, one event-loop turn) share one
# Ed25519 signature over a Merkle root, and each answer carries its leaf, proof and the signed root
# (receipt v2; still verifiable alone). single: one signature per answer (v1), for verifiers that
# predate v2. maxBatchLeaves: answers per root (1–4096). maxBatchDelayMs: how long, in ms (0–5), an
# answer may wait for others to share its root; 0 waits only for the end of the current turn.
# Defaults: batch, 256, 0
receipts:
  mode: batch
  maxBatchLeaves: 256
  maxBatchDelayMs: 0
`;
}
