export {
  ERROR_CODES,
  type ErrorCode,
  HexEdgeError,
  isHexEdgeError,
  storageOpenMessage,
  storageUnavailable,
} from './errors.ts';
export {
  EARTH_RADIUS_KM,
  greatCircleDistanceKm,
  type H3Cell,
  h3CellToLatLng,
  isValidLatLng,
  type LatLng,
  latLngToH3Cell,
  toH3Cell,
  toLatLng,
} from './geo.ts';
export { canonicalBytes, isWithinJsonDepth, MAX_JSON_DEPTH } from './canonical.ts';
export {
  base64UrlToBytes,
  bytesToBase64Url,
  bytesToHex,
  sha256,
  sha256Hex,
  type Sha256Hex,
} from './encoding.ts';
export {
  exportKeyPair,
  generateNodeKeyPair,
  importKeyPair,
  importPublicKey,
  NODE_ID_PATTERN,
  SIGNATURE_PATTERN,
  type NodeKeyPair,
  type StoredKeyPair,
} from './identity.ts';
export {
  assertValidSignature,
  ed25519Engine,
  type Ed25519Engine,
  isValidSignature,
  isValidSignatureFrom,
  signBody,
  signBodyAs,
  type Signed,
  type SignedKind,
  signingInput,
  useEd25519Engine,
  webCryptoEd25519,
} from './signing.ts';
export {
  checkTensor,
  MAX_TENSOR_ELEMENTS,
  type NumericArray,
  type TensorScalar,
  type Tensor,
  TENSOR_DATATYPE_NAMES,
  TENSOR_DATATYPES,
  type TensorData,
  type TensorDatatype,
  tensorToJson,
  type TensorValues,
  tensorValuesToArray,
} from './tensors.ts';
export { asTypedTensor, tensorFromBytes, tensorToBytes, TYPED_ARRAY_OF } from './tensor-bytes.ts';
export { jsonDigest, tensorsDigest, tensorsDigestInput, tensorsDigestParts } from './tensor-digest.ts';
export { maxAbsDifference, normaliseTensors } from './compare-outputs.ts';
export { parseWith } from './schemas/zod-errors.ts';
export {
  oipInferenceRequestSchema,
  oipInferenceResponseSchema,
  predictRequestSchema,
  predictResponseSchema,
} from './schemas/oip.ts';
export {
  EXECUTION_PROVIDERS,
  type ExecutionProvider,
  type Hardware,
  latLngSchema,
  type ModelLoad,
  type NodeAck,
  nodeIdSchema,
  type NodeModel,
  RECEIPT_PARAMETER,
  type RegistrationBody,
  signedHeartbeatSchema,
  type SignedRegistration,
  signedRegistrationSchema,
} from './schemas/node.ts';
export {
  type InferRequest,
  inferRequestSchema,
  type InferResponse,
  inferResponseSchema,
  type LocationInput,
  MAX_DEADLINE_MS,
  MAX_INFER_BODY_BYTES,
  MAX_NEAREST_K,
  MAX_NODE_ANSWER_BYTES,
  type NearestNode,
  nearestNodeSchema,
  type PlacementPolicy,
  placementPolicySchema,
  type PlacementPreference,
} from './schemas/infer.ts';
export {
  MANIFEST_FILE_SUFFIX,
  type ModelManifest,
  modelManifestSchema,
  type TensorSpec,
} from './schemas/manifest.ts';
export { Lifecycle } from './lifecycle.ts';
// Receipts (v1 signed alone, v2 batch-signed) and the batch signing they and oracle reports share.
export {
  type BatchReceipt,
  batchReceiptSchema,
  type ReceiptBody,
  receiptBodySchema,
  type SignedReceipt,
  signedReceiptSchema,
  type SingleReceipt,
  singleReceiptSchema,
} from './schemas/receipt.ts';
export { safeParseSignedReceipt } from './schemas/receipt-fast-parse.ts';
export {
  BATCH_FAULTS,
  BATCH_SIGNED_VERSION,
  type BatchFault,
  type BatchKind,
  batchLeafHash,
  type BatchProof,
  type BatchRootBody,
  type BatchSigned,
  type BatchVerdict,
  type BatchVerifyOptions,
  type BodySigner,
  isBatchSigned,
  ROOT_KIND,
  signBatch,
  verifyBatchSigned,
  verifyBatchSignedNow,
} from './batch/batch-signing.ts';
export {
  buildMerkleTree,
  inclusionProofLength,
  InnerNodeMemo,
  MAX_BATCH_LEAVES,
  MAX_PROOF_HASHES,
  merkleLeafHash,
  merkleNodeHash,
  rootFromInclusionProof,
} from './batch/merkle.ts';
export { DEFAULT_VERIFIED_ROOTS, VerifiedRoots } from './batch/verified-roots.ts';
export {
  type ReceiptFault,
  type ReceiptVerdict,
  verifyReceipt,
  verifyReceiptJson,
} from './batch/verify-receipt.ts';
// Every message that crosses a service line, with its path and limits: services import these, never
// declare their own copies.
export {
  answerChallenge,
  CHALLENGE_PATH,
  createChallenge,
  isValidChallengeResponse,
  MAX_CHALLENGE_BODY_BYTES,
  randomNonce,
} from './wire/latency-challenge.ts';
export {
  type FetchLike,
  DEFAULT_EXCHANGES_PER_CHALLENGE,
  LatencyChallenger,
  type LatencyObservation,
  locationReportFor,
} from './wire/latency-challenger.ts';
export { answerProbe, createProbe, PROBE_PATH } from './wire/latency-probe.ts';
export {
  DESIRED_MODELS_PATH,
  type DesiredModelsAnswer,
  desiredModelsAnswerSchema,
  GATEWAY_IDENTITY_PATH,
  gatewayIdentitySchema,
  type ListedNode,
  MAX_GATEWAY_KEYS,
  MAX_NODE_PAGE,
  type NodeListPage,
  nodeListPageSchema,
  oracleIdentitySchema,
  NODES_PATH,
  ORACLE_IDENTITY_PATH,
} from './wire/node-directory.ts';
export {
  type BeaconReportBody,
  type LocationReportBody,
  MAX_REPORTS_BODY_BYTES,
  MAX_REPORTS_PER_POST,
  type ReceiptReportBody,
  type ReportBody,
  REPORTS_PATH,
  batchReportSchema,
  type SignedReport,
  signedReportSchema,
  singleReportSchema,
  type UplinkReportBody,
  type WitnessReportBody,
} from './wire/oracle-reports.ts';
export { safeParseSignedReport, safeParseSignedReportWithLeaves } from './wire/report-fast-parse.ts';
export type { FastReportLeaves } from './wire/report-fast-leaf.ts';
export {
  isReporterNotKnown,
  REPORTER_NOT_KNOWN,
  type ReportRefusalReason,
  reportRefusalReasonSchema,
  type ReportResult,
  reportResultSchema,
  type ReportsAnswer,
  reportsAnswerSchema,
} from './wire/oracle-report-results.ts';
export {
  clipReasons,
  MAX_SCORES_PER_MESSAGE,
  MAX_TRUST_PUSH_AGE_MS,
  MAX_TRUST_PUSH_BYTES,
  MAX_TRUST_PUSH_SKEW_MS,
  signTrustMessage,
  TRUST_PATH,
  trustPushSchema,
  type TrustScoreEntry,
  type VerifiedClaim,
} from './wire/oracle-trust.ts';
export {
  isValidStakeMessage,
  MAX_STAKE_BODY_BYTES,
  MAX_STAKE_MESSAGE_AGE_MS,
  signBond,
  signDeposit,
  signedStakeMessageSchema,
  type SignedStakeMessage,
  signUnbond,
  stakeAccountPath,
  type StakeAccountView,
  type StakeMessageBody,
  STAKE_PATH,
} from './wire/stake.ts';
export {
  checkForward,
  type ForwardCheck,
  FORWARD_AT_HEADER,
  FORWARD_SIGNATURE_HEADER,
  FORWARDER_HEADER,
  type ForwardRoute,
  MAX_FORWARD_SKEW_MS,
  signForward,
  signForwardBatch,
} from './wire/forward-signature.ts';
export { FORWARD_PROOF_HEADER, ForwardRootCache, MAX_FORWARD_BATCH } from './wire/forward-batch.ts';
export {
  DEFAULT_FORWARD_REPLAY_ENTRIES,
  FORWARD_REPLAY_REFUSAL,
  ForwardReplayGuard,
  type ForwardReplayVerdict,
} from './wire/forward-replay.ts';
export {
  FORWARD_MAC_ACCEPTED_HEADER,
  FORWARD_MAC_HEADER,
  FORWARD_MAC_VERSION,
  forwardMacFault,
  ForwardMacKeys,
  macForward,
  macForwardNow,
} from './wire/forward-mac.ts';
export {
  type ForwardMacEngine,
  forwardMacEngine,
  useForwardMacEngine,
  webCryptoForwardMac,
} from './wire/forward-mac-engine.ts';
export { nodeIdToX25519 } from './wire/forward-mac-curve.ts';
export {
  MAX_RERUN_AGE_MS,
  MAX_RERUN_BODY_BYTES,
  RERUN_PATH,
  type RerunBody,
  signedRerunSchema,
  signRerun,
} from './wire/oracle-rerun.ts';
export { POSP_PATH, type PospReport } from './wire/oracle-posp.ts';
export { type OracleNodeReport, oracleNodeReportPath } from './wire/oracle-node-report.ts';
export {
  NODE_FAULT_KINDS,
  type NodeFaultKind,
  type NodeFaultReportBody,
  nodeFaultReportBodySchema,
} from './wire/node-fault-report.ts';
export { checkInputSpecs, type NamedInput } from './schemas/input-specs.ts';
export {
  childTraceContext,
  formatTraceparent,
  MAX_TRACEPARENT_CHARS,
  newSpanId,
  newTraceContext,
  parseTraceparent,
  type TraceContext,
  TRACEPARENT_HEADER,
} from './trace-context.ts';
export { type HopKind, type HopSpan, startHop } from './tracing.ts';
export {
  type ReceiptMetadata,
  receiptMetadataSchema,
  type ReceiptWithMetadata,
  receiptWithMetadataSchema,
  safeParseReceiptMetadata,
} from './schemas/receipt-metadata.ts';
export {
  DEADLINE_HEADER,
  DEFAULT_PRIORITY,
  isPriority,
  MQTT_CACHE_PROPERTY,
  MQTT_DEADLINE_PROPERTY,
  MQTT_PRIORITY_PROPERTY,
  parseDeadlineMs,
  parsePriority,
  PRIORITIES,
  type Priority,
  PRIORITY_HEADER,
} from './wire/request-hints.ts';
export { fetchWithAnswerLimit, readBoundedBody } from './bounded-body.ts';
// Insertion-ordered eviction for bounded Maps (a kept cursor: O(1) where a fresh iterator is O(holes)).
export { takeOldest, trimOldest } from './oldest-first.ts';
// A caller's bad value quoted for an error message: bounded, never recursive (deep JSON cannot overflow it).
export { quoteValue } from './quote-value.ts';
export { decodeExchange, decodeExchangeAnswer } from './wire/exchange-decode.ts';
export {
  encodeExchange,
  encodeExchangeAnswer,
  EXCHANGE_ACCEPTED_HEADER,
  EXCHANGE_CONTENT_TYPE,
  EXCHANGE_PATH,
  EXCHANGE_VERSION,
  type ExchangeAnswerPart,
  type ExchangePart,
  exchangePartBytes,
  MAX_EXCHANGE_ANSWER_BYTES,
  MAX_EXCHANGE_BYTES,
  MAX_EXCHANGE_PART_BODY_BYTES,
  MAX_EXCHANGE_PART_HEAD_BYTES,
  MAX_EXCHANGE_PART_HEADERS,
  MAX_EXCHANGE_PARTS,
} from './wire/exchange.ts';
