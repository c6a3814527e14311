import {
  DEADLINE_HEADER,
  parseDeadlineMs,
  parsePriority,
  parseTraceparent,
  PRIORITY_HEADER,
  TRACEPARENT_HEADER,
  type Priority,
  type TraceContext,
} from '@hexedge/protocol';

/** What the gateway tells a node about a request besides its body (headers; protocol/src/wire/request-hints.ts). */
export interface RequestHints {
  priority?: Priority;
  /** The budget left when the gateway sent it, ms. */
  deadlineMs?: number;
  /** The caller's trace (a bad traceparent is ignored, never refused). */
  trace?: TraceContext;
}

/** Reads the priority, deadline and traceparent headers; a malformed priority or deadline is INVALID_REQUEST naming it. */
export function readRequestHints(header: (name: string) => string | undefined): RequestHints {
  const priority = parsePriority(header(PRIORITY_HEADER));
  const deadlineMs = parseDeadlineMs(header(DEADLINE_HEADER));
  const trace = parseTraceparent(header(TRACEPARENT_HEADER));
  return {
    ...(priority ? { priority } : {}),
    ...(deadlineMs !== undefined ? { deadlineMs } : {}),
    ...(trace ? { trace } : {}),
  };
}
