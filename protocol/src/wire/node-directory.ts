import { z } from 'zod';
import { nodeIdSchema } from '../schemas/node.ts';

/**
 * What a gateway publishes about its nodes and itself, read by oracles (directory refresh) and peers:
 * `GET /v1/nodes?limit=&after=` (healthy nodes in id order, paged) and `GET /v1/gateway/identity`
 * (the key its forwarded receipt reports are signed with). The oracle's own identity is at
 * `GET /v1/oracle/identity`.
 */
export const NODES_PATH = '/v1/nodes';
export const GATEWAY_IDENTITY_PATH = '/v1/gateway/identity';
export const ORACLE_IDENTITY_PATH = '/v1/oracle/identity';
/** Most nodes one page of `GET /v1/nodes` lists. */
export const MAX_NODE_PAGE = 1000;

export const listedNodeSchema = z.object({
  id: nodeIdSchema,
  url: z.string().max(2048),
  lat: z.number().finite(),
  lng: z.number().finite(),
  cell: z.string().max(32),
  locationVerified: z.boolean(),
  /** When the node made its current location claim (registration or last move): a new claim is a new claim. */
  claimedAtMs: z.number().int().nonnegative().optional(),
  models: z
    .array(z.object({ name: z.string().max(128), version: z.string().max(64), ready: z.boolean() }))
    .max(256),
});
export const nodeListPageSchema = z.object({
  nodes: z.array(listedNodeSchema).max(MAX_NODE_PAGE),
  next: nodeIdSchema.nullable(),
});
export type ListedNode = z.infer<typeof listedNodeSchema>;
export type NodeListPage = z.infer<typeof nodeListPageSchema>;

/** Most keys one gateway identity lists (`reporterIds`): one per instance behind its URL. */
export const MAX_GATEWAY_KEYS = 16;
export const gatewayIdentitySchema = z.object({
  /** The key this instance signs with (receipt reports to oracles, forwards to nodes). */
  reporterId: nodeIdSchema,
  /**
   * Every key the gateway instances behind this URL sign with now, this one's included (each instance
   * has its own data directory, so its own key). Nodes trust these and drop a key once it is no longer
   * listed; absent (an older gateway), `reporterId` is the only one.
   */
  reporterIds: z.array(nodeIdSchema).min(1).max(MAX_GATEWAY_KEYS).optional(),
  algorithm: z.literal('Ed25519'),
  encoding: z.string().max(64),
});
export const oracleIdentitySchema = z.object({
  oracleId: nodeIdSchema,
  publicKey: nodeIdSchema,
  algorithm: z.literal('Ed25519'),
  encoding: z.string(),
});
export type GatewayIdentity = z.infer<typeof gatewayIdentitySchema>;
export type OracleIdentity = z.infer<typeof oracleIdentitySchema>;

/**
 * `GET /v1/nodes/desired-models?lat=&lng=&memoryMb=&providers=cpu,cuda`: what a node about to join at
 * that place, with that memory and those execution providers, should pull first (public: it tells
 * nothing the model catalogue does not). The node pulls them, then registers; after that its
 * heartbeat answers carry the planner's `desiredModels`.
 */
export const DESIRED_MODELS_PATH = '/v1/nodes/desired-models';
export const desiredModelsAnswerSchema = z.object({
  models: z
    .array(
      z.object({
        name: z.string().max(128),
        version: z.string().max(64),
        contentId: z.string().regex(/^[0-9a-f]{64}$/),
        sizeBytes: z.number().int().positive(),
        reason: z.string().max(300),
      }),
    )
    .max(64),
});
export type DesiredModelsAnswer = z.infer<typeof desiredModelsAnswerSchema>;
