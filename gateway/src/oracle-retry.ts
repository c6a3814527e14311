import { isReporterNotKnown, reportsAnswerSchema } from '@hexedge/protocol';

/**
 * First wait before sending reports again that the oracle refused because it does not know this
 * gateway's report key yet: the oracle's on-demand directory read interval (its
 * unknownReporterRefreshMs, 2 s by default), so the first retry may read the directory again.
 */
export const DEFAULT_NOT_KNOWN_RETRY_MS = 2_000;
/** The wait doubles per answer in a row that still does not know the key, up to this. */
export const DEFAULT_NOT_KNOWN_MAX_RETRY_MS = 30_000;
/**
 * A report held this long (since its first "not known") is given up, counted as refused and said:
 * the oracle's own bound on how late a report may be judged (coverage-oracle's MAX_REPORT_AGE_MS),
 * past which its receipt would be late work anyway, and a gateway the oracle never learns of does not
 * hold its queue for ever.
 */
export const DEFAULT_NOT_KNOWN_GIVE_UP_MS = 5 * 60_000;

/** What became of one post's reports, by index into the batch. */
export interface AnswerVerdict {
  accepted: number;
  /** Refused for good (the report itself: bad signature, replayed, stale, malformed). */
  refused: number;
  /** Refused because the oracle does not know this reporter yet: to be sent again. */
  held: number[];
  /** The first refusal's code and message, for the log. */
  firstRefusal?: { code?: string; message?: string };
}

/**
 * Reads the oracle's answer to a batch post (protocol's reportsAnswerSchema). Only a well-formed
 * answer with one result per report can hold reports back; anything else is read as before this
 * schema existed: its `accepted` count (all, when absent), the rest refused for good.
 */
export function readReportsAnswer(answer: unknown, batchSize: number): AnswerVerdict {
  const parsed = reportsAnswerSchema.safeParse(answer);
  if (parsed.success && parsed.data.results.length === batchSize) {
    const { results } = parsed.data;
    const held = results.flatMap((r, i) => (isReporterNotKnown(r) ? [i] : []));
    const accepted = results.filter((r) => r.accepted).length;
    const first = results.find((r) => !r.accepted && !isReporterNotKnown(r)) ?? results[held[0] ?? -1];
    return {
      accepted,
      refused: batchSize - accepted - held.length,
      held,
      ...(first && !first.accepted ? { firstRefusal: { code: first.code, message: first.message } } : {}),
    };
  }
  const loose = (answer ?? {}) as {
    accepted?: unknown;
    results?: Array<{ accepted?: unknown; code?: string; message?: string }>;
  };
  const accepted = typeof loose.accepted === 'number' ? Math.min(loose.accepted, batchSize) : batchSize;
  const first = Array.isArray(loose.results) ? loose.results.find((r) => r?.accepted === false) : undefined;
  return {
    accepted,
    refused: batchSize - accepted,
    held: [],
    ...(first ? { firstRefusal: { code: first.code, message: first.message } } : {}),
  };
}

/**
 * When to send held reports again: after `initialMs`, doubling per "not known" answer in a row up to
 * `maxMs`, back to `initialMs` once an answer holds nothing back.
 */
export class NotKnownBackoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #now: () => number;
  #delayMs = 0;
  #retryAtMs = 0;
  /** "Not known" answers in a row (0: none since the last answer that held nothing). */
  attempts = 0;

  constructor(options: { initialMs?: number; maxMs?: number; nowMs?: () => number } = {}) {
    this.#initialMs = options.initialMs ?? DEFAULT_NOT_KNOWN_RETRY_MS;
    this.#maxMs = Math.max(this.#initialMs, options.maxMs ?? DEFAULT_NOT_KNOWN_MAX_RETRY_MS);
    this.#now = options.nowMs ?? Date.now;
  }

  /** After an answer that held reports back: how long to wait before sending them again. */
  hold(): number {
    this.#delayMs = this.attempts === 0 ? this.#initialMs : Math.min(this.#delayMs * 2, this.#maxMs);
    this.attempts++;
    this.#retryAtMs = this.#now() + this.#delayMs;
    return this.#delayMs;
  }

  /** After an answer that held nothing back. */
  reset(): void {
    this.attempts = 0;
    this.#delayMs = 0;
    this.#retryAtMs = 0;
  }

  /** How long until held reports may be sent again (0: now). */
  get waitMs(): number {
    return Math.max(0, this.#retryAtMs - this.#now());
  }
}
