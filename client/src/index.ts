export type {
  components,
  ErrorBody,
  Health,
  InferRequest,
  InferResponse,
  Method,
  MethodOf,
  ModelCatalog,
  NearestNode,
  NodeDetail,
  NodeListPage,
  Operation,
  Path,
  paths,
  Schemas,
  SignedReceipt,
  SuccessBody,
  Usage,
} from './api-types.ts';
export {
  type CallOptions,
  type ClientOptions,
  createClient,
  HexEdgeClient,
  type RetryEvent,
} from './client.ts';
export { HexEdgeApiError, isHexEdgeApiError } from './errors.ts';
export { type ReceiptProblem, type ReceiptVerdict, verifyReceipt } from './receipts.ts';
export { backoffMs, DEFAULT_RETRY, parseRetryAfterMs, type RetryPolicy } from './retry.ts';
