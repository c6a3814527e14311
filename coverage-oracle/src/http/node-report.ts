import type { CoverageOracle } from '../oracle.ts';
import type { OracleStore } from '../store/oracle-store.ts';

/** Verdicts shown per node, newest first: enough for the operator view's history. */
export const MAX_REPORT_VERDICTS = 200;
/** Epochs whose rewards are listed (two days of hourly epochs). */
export const MAX_REPORT_EPOCHS = 48;
/** Verdicts older than this are not read for a report (the trust score has long forgotten them). */
const REPORT_LOOKBACK_MS = 30 * 24 * 3600_000;

/**
 * Everything the oracle knows of one node, for `GET /v1/oracle/nodes/{nodeId}` and the gateway's
 * operator view (it fits the gateway's `OracleNodeReport`): trust with its reasons and components,
 * the verdicts behind it (spot checks, location proofs, PoC, availability), stake and slashes with
 * their evidence ids, rewards per epoch and the latest manifest entry with its Merkle proof.
 */
export async function buildNodeReport(options: {
  oracle: CoverageOracle;
  store: OracleStore;
  nodeId: string;
  nowMs: number;
}) {
  const { oracle, store, nodeId, nowMs } = options;
  const trust = store.getTrust(nodeId);
  // Only the newest are read (an indexed, limited query): a busy node's month is 250 000+ verdicts.
  const verdicts = store
    .listRecentVerdicts({ nodeId, sinceMs: nowMs - REPORT_LOOKBACK_MS, limit: MAX_REPORT_VERDICTS })
    .map((v) => ({
      id: v.id,
      kind: v.kind,
      status: v.status,
      ...(v.reason ? { reason: v.reason } : {}),
      atMs: v.atMs,
      ...(v.details ? { details: v.details } : {}),
    }));
  const stakeEvents = store.listStakeEvents(nodeId);
  // Epochs' rewards per node are parsed once and kept (PublishedEpochs), not 48 manifests per request.
  const history = oracle.published.recentRewards(nodeId, MAX_REPORT_EPOCHS);
  const rewards = history.flatMap(({ epoch, amountBaseUnits }) =>
    amountBaseUnits === undefined ? [] : [{ epoch, amountBaseUnits }],
  );
  const latest = history.at(-1);
  const proof =
    latest?.amountBaseUnits !== undefined ? await oracle.getRewardProof(latest.epoch, nodeId) : undefined;
  const stakeOf = (type: string) => stakeEvents.filter((e) => e.type === type);
  const stake = oracle.ledger.stakeOf(nodeId, nowMs);
  return {
    nodeId,
    trust: trust
      ? {
          score: trust.score,
          reasons: trust.reasons,
          components: trust.components,
          updatedAtMs: trust.updatedAtMs,
          scored: true,
        }
      : {
          score: null,
          reasons: ['unknown: no evidence yet'],
          components: {},
          updatedAtMs: null,
          scored: false,
        },
    trustComponents: trust?.components ?? {},
    verdicts,
    spotChecks: verdicts.filter((v) => v.kind === 'spot-check'),
    locationProofs: verdicts.filter((v) => v.kind === 'location'),
    standing: oracle.standing.standingOf(nodeId) ?? {
      verifier: false,
      known: false,
      passes: 0,
      reasons: ['not yet assessed'],
    },
    stake: {
      balanceBaseUnits: stake.bondedBaseUnits.toString(),
      bondedBaseUnits: stakeOf('bond')
        .reduce((s, e) => s + BigInt(e.amountBaseUnits), 0n)
        .toString(),
      unbondingBaseUnits: stake.unbondingBaseUnits.toString(),
      releasesAtMs: stake.releasesAtMs,
      operatorId: stake.operatorId ?? null,
      slashes: stakeOf('slash').map((e) => ({
        evidenceId: e.evidenceId!,
        amountBaseUnits: e.amountBaseUnits,
        atMs: e.atMs,
      })),
    },
    rewards,
    ...(proof
      ? {
          manifestEntry: {
            epoch: latest!.epoch,
            entry: proof.entry as unknown as Record<string, string>,
            merkleRoot: proof.merkleRoot,
            proof: proof.proof,
          },
        }
      : {}),
  };
}
