import { z } from 'zod';
import { SIGNATURE_PATTERN, type NodeKeyPair } from '../identity.ts';
import { nodeIdSchema } from '../schemas/node.ts';
import { isValidSignature, isValidSignatureFrom, signBody, signBodyAs } from '../signing.ts';
import { randomNonce } from './latency-challenge.ts';

/**
 * Stake over signed HTTP messages (`POST {oracle}/v1/oracle/stake`), signed with kind 'stake':
 * - `stake-deposit`: a treasury key the oracle is configured with (standing in for a chain bridge
 *   that saw a deposit) credits an operator's stake account;
 * - `stake-bond`: the operator (the stake account, `nodeId`) bonds part of its free balance to a node,
 *   which consents with its own signature over the same body (`nodeSignature`), so nobody can claim
 *   another operator's node, or pin an honest node to themselves;
 * - `stake-unbond`: the operator asks for stake back; it stays bonded, and slashable, for the
 *   oracle's unbonding delay, then returns to the free balance.
 * Every message carries a nonce and its issue time; the oracle accepts each (signer, nonce) once
 * within MAX_STAKE_MESSAGE_AGE_MS.
 */
export const STAKE_PATH = '/v1/oracle/stake';
export const stakeAccountPath = (accountId: string) => `/v1/oracle/stake/${encodeURIComponent(accountId)}`;
/** A stake message is a few hundred bytes of signed JSON. */
export const MAX_STAKE_BODY_BYTES = 4 * 1024;
/** As for oracle reports: long enough for a retry, short enough to bound the nonce memory. */
export const MAX_STAKE_MESSAGE_AGE_MS = 5 * 60_000;

/** Integer base units as a decimal string (JSON has no bigint), 1 … 10³⁰ − 1. */
const amountSchema = z
  .string()
  .regex(/^[1-9]\d{0,29}$/, 'must be a positive integer number of base units (decimal string)');
const base = {
  nodeId: nodeIdSchema,
  nonce: z.string().regex(/^[A-Za-z0-9_-]{22,64}$/, 'must be 16–48 random bytes in base64url'),
  issuedAtMs: z.number().int().nonnegative(),
  amountBaseUnits: amountSchema,
};
const signatureSchema = z.string().regex(SIGNATURE_PATTERN, 'must be a base64url Ed25519 signature');

export const stakeMessageBodySchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('stake-deposit'), ...base, accountId: nodeIdSchema }).strict(),
  z.object({ type: z.literal('stake-bond'), ...base, targetNodeId: nodeIdSchema }).strict(),
  z.object({ type: z.literal('stake-unbond'), ...base, targetNodeId: nodeIdSchema }).strict(),
]);
export const signedStakeMessageSchema = z
  .object({
    body: stakeMessageBodySchema,
    signature: signatureSchema,
    nodeSignature: signatureSchema.optional(),
  })
  .strict();
export type StakeMessageBody = z.infer<typeof stakeMessageBodySchema>;
export type SignedStakeMessage = z.infer<typeof signedStakeMessageSchema>;

/** What the oracle answers about a stake account (`GET /v1/oracle/stake/{accountId}`, and to every stake message). */
export interface StakeAccountView {
  accountId: string;
  /** Deposited, not bonded (and unbonded stake whose delay has passed). */
  freeBaseUnits: string;
  bonds: Array<{
    nodeId: string;
    bondedBaseUnits: string;
    unbondingBaseUnits: string;
    releasesAtMs: number | null;
  }>;
}

const common = (nowMs: number, amountBaseUnits: bigint) => ({
  nonce: randomNonce(),
  issuedAtMs: nowMs,
  amountBaseUnits: amountBaseUnits.toString(),
});

export async function signDeposit(options: {
  treasury: NodeKeyPair;
  accountId: string;
  amountBaseUnits: bigint;
  nowMs: number;
}): Promise<SignedStakeMessage> {
  const body = {
    type: 'stake-deposit' as const,
    nodeId: options.treasury.nodeId,
    accountId: options.accountId,
    ...common(options.nowMs, options.amountBaseUnits),
  };
  return signBody('stake', body, options.treasury.privateKey);
}

/** A bond, signed by the operator and consented to by the node. */
export async function signBond(options: {
  operator: NodeKeyPair;
  node: NodeKeyPair;
  amountBaseUnits: bigint;
  nowMs: number;
}): Promise<SignedStakeMessage> {
  const body = {
    type: 'stake-bond' as const,
    nodeId: options.operator.nodeId,
    targetNodeId: options.node.nodeId,
    ...common(options.nowMs, options.amountBaseUnits),
  };
  const signed = await signBody('stake', body, options.operator.privateKey);
  return { ...signed, nodeSignature: await signBodyAs('stake', body, options.node.privateKey) };
}

export async function signUnbond(options: {
  operator: NodeKeyPair;
  nodeId: string;
  amountBaseUnits: bigint;
  nowMs: number;
}): Promise<SignedStakeMessage> {
  const body = {
    type: 'stake-unbond' as const,
    nodeId: options.operator.nodeId,
    targetNodeId: options.nodeId,
    ...common(options.nowMs, options.amountBaseUnits),
  };
  return signBody('stake', body, options.operator.privateKey);
}

/** The signer's signature, and for a bond the node's consent over the same body. */
export async function isValidStakeMessage(message: SignedStakeMessage): Promise<boolean> {
  if (!(await isValidSignature('stake', message))) return false;
  if (message.body.type !== 'stake-bond') return true;
  return isValidSignatureFrom({
    kind: 'stake',
    body: message.body,
    signature: message.nodeSignature,
    signerId: message.body.targetNodeId,
  });
}
