export { combineLocationObservations, type LatencyObservation } from './location/combine.ts';
export { maxAbsDifference } from './spot-check/compare.ts';
export { computeTrust } from './trust/trust-score.ts';
export { CoverageMap } from './coverage/coverage-map.ts';
export { StakeLedger } from './stake/stake-ledger.ts';
export { Ingest } from './ingest/ingest.ts';
export { type Verdict } from './store/records.ts';
export { MemoryOracleStore } from './store/memory-store.ts';
export { VerifyStage } from './stages/verify-stage.ts';
export { MemoryDirectory } from './directory.ts';
export { CoverageOracle } from './oracle.ts';
export { type OracleConfig, parseOracleConfig } from './config.ts';
export { createOracleApp } from './http/oracle-app.ts';
export { oracleServiceConfigSchema, type OracleServiceConfig } from './service/service-config.ts';
export { CLAIM_SLACK_KM, maxDistanceKmForRtt } from './location/latency-bound.ts';
export { toTrustScoreEntry, type TrustScore } from './trust/trust-score.ts';
export { standingOf, type Standing, type StandingPolicy } from './trust/standing.ts';
export { StandingBook, type StandingEntry } from './trust/standing-book.ts';
export { drawCheckers, networkPrefixOf, type CheckerCandidate } from './spot-check/checker-draw.ts';
export { isSampled } from './spot-check/sampling.ts';
export {
  SpotChecker,
  type InferenceRequest,
  type InferenceResult,
  type Referee,
  type ReRun,
  type SpotCheckOutcome,
} from './spot-check/spot-checker.ts';
export { computeRewardEntries, isRewardedWork, type RewardEntry } from './rewards/epoch-rewards.ts';
export { selectChallengers, type ChallengerCandidate } from './location/challenger.ts';
export { availabilityStatusOf, judgeLocationWindow } from './stages/location-reports.ts';
export { type ClaimedNode } from './directory.ts';
export { type StakeEvent, type WorkRecord } from './store/records.ts';
export { type OracleStore } from './store/oracle-store.ts';
export { RewardStage } from './stages/reward-stage.ts';
export { EpochClock } from './rewards/epochs.ts';
export { buildLogEntry, findBrokenLogEntry } from './rewards/epoch-log.ts';
export { GENESIS_LOG_ROOT } from './store/memory-store.ts';
