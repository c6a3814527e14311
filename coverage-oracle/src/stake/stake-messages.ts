import {
  HexEdgeError,
  isValidStakeMessage,
  MAX_STAKE_MESSAGE_AGE_MS,
  signedStakeMessageSchema,
  type StakeAccountView,
} from '@hexedge/protocol';
import { formatIssue } from '../format-issue.ts';
import type { OracleStore } from '../store/oracle-store.ts';
import type { StakeLedger } from './stake-ledger.ts';

/** A stake message's sender may run this far ahead of the oracle's clock. */
const MAX_CLOCK_SKEW_MS = 30_000;

/**
 * Applies one signed stake message (`POST /v1/oracle/stake`), in order: shape, signature (and the
 * node's consent to a bond), freshness, who may send it (deposits only from a configured treasury
 * key), then the (signer, nonce) replay check, then the ledger (which refuses bonding another
 * operator's node, more than the account holds, or unbonding more than is bonded). Nothing is applied
 * unless everything passes. Answers the stake account it changed.
 */
export async function applyStakeMessage(options: {
  raw: unknown;
  ledger: StakeLedger;
  store: OracleStore;
  treasuryIds: readonly string[];
  nowMs: number;
}): Promise<StakeAccountView> {
  const { ledger, nowMs } = options;
  const parsed = signedStakeMessageSchema.safeParse(options.raw);
  if (!parsed.success)
    throw new HexEdgeError('INVALID_REQUEST', `stake message ${formatIssue(parsed.error.issues[0])}`);
  const message = parsed.data;
  const { body } = message;
  if (!(await isValidStakeMessage(message)))
    throw new HexEdgeError(
      'BAD_SIGNATURE',
      body.type === 'stake-bond'
        ? `stake-bond needs the operator's signature (${body.nodeId}) and the node's consent (${body.targetNodeId})`
        : `${body.type} signature does not verify for ${body.nodeId}`,
    );
  if (body.issuedAtMs > nowMs + MAX_CLOCK_SKEW_MS || body.issuedAtMs < nowMs - MAX_STAKE_MESSAGE_AGE_MS)
    throw new HexEdgeError(
      'STALE_MESSAGE',
      `stake message issuedAtMs ${body.issuedAtMs} is ${nowMs - body.issuedAtMs} ms from now (allowed: ${MAX_STAKE_MESSAGE_AGE_MS} old, ${MAX_CLOCK_SKEW_MS} ahead)`,
    );
  if (body.type === 'stake-deposit' && !options.treasuryIds.includes(body.nodeId))
    throw new HexEdgeError(
      'FORBIDDEN',
      `${body.nodeId} is not a treasury key this oracle accepts deposits from`,
    );
  if (
    !options.store.claimNonce({
      nodeId: body.nodeId,
      nonce: body.nonce,
      expiresAtMs: body.issuedAtMs + MAX_STAKE_MESSAGE_AGE_MS,
      nowMs,
    })
  )
    throw new HexEdgeError('REPLAYED', `nonce ${body.nonce} from ${body.nodeId} was already used`);
  const amountBaseUnits = BigInt(body.amountBaseUnits);
  switch (body.type) {
    case 'stake-deposit':
      ledger.deposit({ accountId: body.accountId, amountBaseUnits, atMs: nowMs });
      return ledger.accountOf(body.accountId, nowMs);
    case 'stake-bond':
      ledger.bond({
        nodeId: body.targetNodeId,
        operatorId: body.nodeId,
        amountBaseUnits,
        atMs: nowMs,
        fromAccount: true,
      });
      return ledger.accountOf(body.nodeId, nowMs);
    case 'stake-unbond':
      ledger.unbond({ nodeId: body.targetNodeId, operatorId: body.nodeId, amountBaseUnits, atMs: nowMs });
      return ledger.accountOf(body.nodeId, nowMs);
  }
}
