/**
 * One directory refresh at a time, and on-demand ones rate-limited. The periodic loop always gets a
 * refresh. A report from an unknown reporter asks for one on demand: it joins
 * the refresh in flight, or starts one if the last began at least `minIntervalMs` ago, or else is told
 * no at once. Reporter ids are free to make (a key pair each), so a flood of validly signed reports
 * from made-up gateways costs at most one directory read per `minIntervalMs`, never one per report.
 */
export class RefreshGate {
  readonly #refresh: () => Promise<void>;
  readonly #minIntervalMs: number;
  readonly #now: () => number;
  #inFlight: Promise<void> | undefined;
  #lastStartMs = Number.NEGATIVE_INFINITY;
  /** Refreshes started (by either path), on-demand asks that joined one in flight, and those refused by the rate limit. */
  readonly stats = { started: 0, joined: 0, limited: 0 };

  constructor(options: { refresh: () => Promise<void>; minIntervalMs: number; nowMs?: () => number }) {
    this.#refresh = options.refresh;
    this.#minIntervalMs = options.minIntervalMs;
    this.#now = options.nowMs ?? Date.now;
  }

  /**
   * A refresh that begins no earlier than this call (the periodic loop; a gateway just added must be
   * read, not a read that began before it was added): after the one in flight, if any, it starts one
   * or joins one another caller started meanwhile. Not rate-limited.
   */
  async run(): Promise<void> {
    await this.#inFlight?.catch(() => {});
    return this.#inFlight ?? this.#start();
  }

  /**
   * An on-demand refresh: resolves true once a refresh has finished (the one in flight, joined, or one
   * it started), false at once when the rate limit refuses it. Never rejects: the asker judges its
   * report with whatever the directory then knows.
   */
  async request(): Promise<boolean> {
    let refresh = this.#inFlight;
    if (refresh) {
      this.stats.joined++;
    } else if (this.#now() - this.#lastStartMs < this.#minIntervalMs) {
      this.stats.limited++;
      return false;
    } else {
      refresh = this.#start();
    }
    await refresh.catch(() => {});
    return true;
  }

  #start(): Promise<void> {
    this.#lastStartMs = this.#now();
    this.stats.started++;
    // The refresh reports its own failures; a rejection still frees the gate.
    this.#inFlight = this.#refresh().finally(() => (this.#inFlight = undefined));
    return this.#inFlight;
  }
}
