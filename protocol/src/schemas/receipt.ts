import { z } from 'zod';
import { BATCH_SIGNED_VERSION } from '../batch/batch-signing.ts';
import { MAX_BATCH_LEAVES } from '../batch/merkle.ts';
import { NODE_ID_PATTERN, SIGNATURE_PATTERN } from '../identity.ts';

/**
 * The receipt an edge node attaches to every answer, in one of two wire versions:
 * - v1 (`{ body, signature }`): the node's Ed25519 signature over the body alone;
 * - v2 (`{ v: 2, body, batch }`): the same body as a leaf of a batch the node signed once, with its
 *   inclusion proof and the signed root (protocol's batch signing). The default of nodes since batch
 *   receipts; v1 stays valid everywhere.
 */
const nodeIdSchema = z
  .string()
  .regex(NODE_ID_PATTERN, 'must be a base64url Ed25519 public key (43 chars, its canonical spelling)');
const sha256HexSchema = z.string().regex(/^[0-9a-f]{64}$/, 'must be a lowercase hex SHA-256');
const signatureSchema = z.string().regex(SIGNATURE_PATTERN, 'must be a base64url Ed25519 signature');
/**
 * Proof entries parsed at most: four times the deepest tree, so an oversized proof still parses and is
 * refused by the verifier with its own reason (PROOF_LENGTH), while a giant one costs nothing to refuse.
 */
const MAX_PARSED_PROOF_HASHES = 48;

export const receiptBodySchema = z.object({
  nodeId: nodeIdSchema,
  requestId: z.string().max(256),
  modelName: z.string(),
  modelVersion: z.string(),
  modelContentId: sha256HexSchema,
  inputDigest: sha256HexSchema,
  outputDigest: sha256HexSchema,
  issuedAtMs: z.number().int().nonnegative(),
  serviceTimeMs: z.number().nonnegative(),
});

export const batchRootBodySchema = z.object({
  nodeId: nodeIdSchema,
  root: sha256HexSchema,
  leafCount: z.number().int().min(1).max(MAX_BATCH_LEAVES),
  issuedAtMs: z.number().int().nonnegative(),
});

/** A batch-signed message's proof: its leaf index, the sibling hashes and the signed root. */
export const batchProofSchema = z.object({
  index: z.number().int().nonnegative().max(MAX_BATCH_LEAVES),
  proof: z.array(z.string().max(64)).max(MAX_PARSED_PROOF_HASHES),
  root: z.object({ body: batchRootBodySchema, signature: signatureSchema }),
});

/** v1 has no `v`; it is the discriminator, so a receipt is parsed once, as the version it says it is. */
export const singleReceiptSchema = z.object({
  v: z.undefined().optional(),
  body: receiptBodySchema,
  signature: signatureSchema,
});
export const batchReceiptSchema = z.object({
  v: z.literal(BATCH_SIGNED_VERSION),
  body: receiptBodySchema,
  batch: batchProofSchema,
});
export const signedReceiptSchema = z.discriminatedUnion('v', [batchReceiptSchema, singleReceiptSchema]);

export type ReceiptBody = z.infer<typeof receiptBodySchema>;
export type SingleReceipt = z.infer<typeof singleReceiptSchema>;
export type BatchReceipt = z.infer<typeof batchReceiptSchema>;
export type SignedReceipt = z.infer<typeof signedReceiptSchema>;
