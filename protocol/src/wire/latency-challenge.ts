import { z } from 'zod';
import { bytesToBase64Url } from '../encoding.ts';
import { SIGNATURE_PATTERN, type NodeKeyPair } from '../identity.ts';
import { nodeIdSchema } from '../schemas/node.ts';
import { isValidSignature, signBody, type Signed } from '../signing.ts';

/**
 * Latency challenge wire format. The challenger signs the challenge (kind 'report', with a `type` no
 * ingest report uses, so it can never pass as one); the node answers by signing the challenge's nonce
 * (kind 'challenge-response'), which proves the answer was made after the challenge was seen and by
 * the key the node registered. Endpoint on the node: `POST {url}/v1/oracle/challenge`.
 */
export const CHALLENGE_PATH = '/v1/oracle/challenge';
/** A challenge or probe is a few hundred bytes of signed JSON; a node refuses bodies past this. */
export const MAX_CHALLENGE_BODY_BYTES = 4 * 1024;
const nonceSchema = z.string().regex(/^[A-Za-z0-9_-]{22,64}$/, 'must be 16–48 random bytes in base64url');
const signatureSchema = z.string().regex(SIGNATURE_PATTERN);

export const challengeBodySchema = z.object({
  type: z.literal('latency-challenge'),
  nodeId: nodeIdSchema,
  targetNodeId: nodeIdSchema,
  nonce: nonceSchema,
  issuedAtMs: z.number().int().nonnegative(),
});
export const challengeResponseBodySchema = z.object({
  type: z.literal('latency-response'),
  nodeId: nodeIdSchema,
  challengerId: nodeIdSchema,
  nonce: nonceSchema,
});
export const signedChallengeSchema = z.object({ body: challengeBodySchema, signature: signatureSchema });
export const signedChallengeResponseSchema = z.object({
  body: challengeResponseBodySchema,
  signature: signatureSchema,
});

export type ChallengeBody = z.infer<typeof challengeBodySchema>;
export type ChallengeResponseBody = z.infer<typeof challengeResponseBodySchema>;

export function randomNonce(): string {
  return bytesToBase64Url(crypto.getRandomValues(new Uint8Array(16)));
}

export function createChallenge(options: {
  challenger: NodeKeyPair;
  targetNodeId: string;
  nowMs: number;
  nonce?: string;
}): Promise<Signed<ChallengeBody>> {
  const body: ChallengeBody = {
    type: 'latency-challenge',
    nodeId: options.challenger.nodeId,
    targetNodeId: options.targetNodeId,
    nonce: options.nonce ?? randomNonce(),
    issuedAtMs: options.nowMs,
  };
  return signBody('report', body, options.challenger.privateKey);
}

/**
 * The node's side, for the edge node's server: answer a challenge addressed to it. Returns null for a
 * challenge that is malformed, unsigned, or for someone else (the node should answer 400 then).
 */
export async function answerChallenge(
  raw: unknown,
  node: NodeKeyPair,
): Promise<Signed<ChallengeResponseBody> | null> {
  const parsed = signedChallengeSchema.safeParse(raw);
  if (!parsed.success || parsed.data.body.targetNodeId !== node.nodeId) return null;
  if (!(await isValidSignature('report', parsed.data))) return null;
  const body: ChallengeResponseBody = {
    type: 'latency-response',
    nodeId: node.nodeId,
    challengerId: parsed.data.body.nodeId,
    nonce: parsed.data.body.nonce,
  };
  return signBody('challenge-response', body, node.privateKey);
}

/** True when `raw` is `targetNodeId`'s signed answer to exactly this challenge. */
export async function isValidChallengeResponse(raw: unknown, challenge: ChallengeBody): Promise<boolean> {
  const parsed = signedChallengeResponseSchema.safeParse(raw);
  if (!parsed.success) return false;
  const { body } = parsed.data;
  if (
    body.nodeId !== challenge.targetNodeId ||
    body.challengerId !== challenge.nodeId ||
    body.nonce !== challenge.nonce
  )
    return false;
  return isValidSignature('challenge-response', parsed.data);
}
