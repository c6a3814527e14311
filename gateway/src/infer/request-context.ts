import type { CacheOutcome } from '../cache/infer-cache.ts';
import type { RequestTrace } from '../trace/request-trace.ts';
import type { InferHints } from './infer-hints.ts';

/** What one request carries through the service besides its body (trace, cache outcome, overloaded nodes). */
export interface RequestContext {
  hints: InferHints | undefined;
  trace: RequestTrace;
  cache?: CacheOutcome;
  /** Nodes that refused for backpressure, and the shortest wait they asked for. */
  overloaded: { count: number; retryAfterMs: number | undefined };
}
