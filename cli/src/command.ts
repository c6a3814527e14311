/** A long-running command's handle: `hexedge` stops it on SIGINT/SIGTERM (reverse-order shutdown). */
export interface Running {
  stop(): Promise<void>;
  /** Settles when the command stops on its own; a rejection (an infrastructure fault) exits non-zero. */
  done?: Promise<void>;
}

export interface CommandIo {
  /** Progress and log lines (stdout). */
  log: (line: string) => void;
  /** The command's own output (tables, reports), also stdout. */
  out: (text: string) => void;
  env: NodeJS.ProcessEnv;
  /** Stops a long-running command (the process's signals, or a test's). */
  signal: AbortSignal;
}

/** One `hexedge` command: the words that name it, its usage lines, and what it does. */
export interface Command {
  name: readonly string[];
  usage: string;
  run(args: string[], io: CommandIo): Promise<Running | void>;
}
