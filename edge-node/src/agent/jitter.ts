/**
 * Waits between a node's calls to its gateway, spread at random so that a fleet does not call in
 * step. Thousands of nodes that lost their gateway at the same moment (an outage, a deploy) would
 * otherwise retry at the same instants, register in one burst when it returns, and heartbeat in
 * phase from then on: load spikes every interval instead of a flat rate.
 */

/** The first wait after a failed call; each failure doubles the step up to MAX_RETRY_MS. */
export const FIRST_RETRY_MS = 500;
export const MAX_RETRY_MS = 30_000;
/** A heartbeat comes up to this share of its interval early (never late). */
export const HEARTBEAT_JITTER = 0.1;

/**
 * The wait before retry number `attempt` (0 for the first): "equal jitter", half the capped
 * exponential step plus up to the other half at random, so the backoff keeps its floor while a
 * fleet's retries spread over the step.
 */
export function retryWaitMs(attempt: number, random: () => number = Math.random): number {
  const stepMs = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.min(attempt, 30));
  return stepMs / 2 + random() * (stepMs / 2);
}

/**
 * The wait until the next heartbeat: the gateway's interval, up to HEARTBEAT_JITTER of it early. Never
 * later: the gateway counts a node unhealthy after three silent intervals, and a late beat would eat
 * into that margin.
 */
export function heartbeatWaitMs(intervalMs: number, random: () => number = Math.random): number {
  return Math.round(intervalMs * (1 - HEARTBEAT_JITTER * random()));
}

/** A periodic wait spread ±`fraction` around `intervalMs` (periodic reads nothing depends on to the second). */
export function spreadMs(intervalMs: number, fraction: number, random: () => number = Math.random): number {
  return Math.round(intervalMs * (1 - fraction + 2 * fraction * random()));
}
