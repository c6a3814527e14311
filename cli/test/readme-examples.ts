import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { optedOut, recordSkip, requirePart } from '@hexedge/test-kit';

const REPO_ROOT = path.resolve(import.meta.dirname, '../..');
export const README_FILES = ['README.md', 'cli/README.md'];
const CLIENTS = ['mosquitto_rr', 'mosquitto_pub', 'mosquitto_sub'];

/** One shell command of a README block (continuation lines joined), with the comment above it. */
export interface ExampleCommand {
  tool: 'mosquitto_rr' | 'mosquitto_pub' | 'mosquitto_sub';
  line: string;
  comment: string;
}

export interface ExampleBlock {
  file: string;
  commands: ExampleCommand[];
}

/**
 * The fenced `sh` blocks of the READMEs that run Mosquitto's clients, as a reader would copy them
 * (indented fences inside list items included).
 */
export function mqttExampleBlocks(files = README_FILES): ExampleBlock[] {
  const blocks: ExampleBlock[] = [];
  for (const file of files) {
    const text = readFileSync(path.join(REPO_ROOT, file), 'utf8');
    for (const m of text.matchAll(/^( *)```sh\n([\s\S]*?)^\1```/gm)) {
      const indent = m[1]!.length;
      const body = m[2]!
        .split('\n')
        .map((l) => l.slice(indent))
        .join('\n')
        .replace(/\\\n\s*/g, ' ');
      if (!/\bmosquitto_(rr|pub|sub)\b/.test(body)) continue;
      const commands: ExampleCommand[] = [];
      let comment = '';
      for (const raw of body.split('\n')) {
        const line = raw.trim();
        if (!line) continue;
        if (line.startsWith('#')) {
          comment = line;
          continue;
        }
        const tool = /^(mosquitto_(?:rr|pub|sub))\s/.exec(line)?.[1];
        if (!tool) throw new Error(`${file}: a block with MQTT examples also runs ${JSON.stringify(line)}`);
        commands.push({ tool: tool as ExampleCommand['tool'], line, comment });
        comment = '';
      }
      blocks.push({ file, commands });
    }
  }
  return blocks;
}

/** The README's placeholders, filled in with what `hexedge dev` printed: its MQTT port (`$API_KEY` is the environment's). */
export const forDev = (line: string, mqttUrl: string) =>
  line
    .replace(/ -p 1883\b/, ` -p ${new URL(mqttUrl).port}`)
    .replace(/ -h 127\.0\.0\.1\b/, ` -h ${new URL(mqttUrl).hostname}`);

/**
 * Mosquitto's clients (Debian's mosquitto-clients): a missing one fails the file, unless
 * HEXEDGE_SKIP_REAL_PARTS=mosquitto opts out (then the file skips and the run reports it).
 */
export function requireMosquittoClients(testFile: string): { skip: boolean } {
  if (requirePart('mosquitto', testFile).skip) return { skip: true };
  const missing = CLIENTS.filter(
    (c) => !['/usr/bin', '/usr/local/bin'].some((d) => existsSync(path.join(d, c))),
  );
  if (missing.length === 0) return { skip: false };
  const reason = `${missing.join(', ')} not found in /usr/bin or /usr/local/bin; install the Debian package mosquitto-clients (npm test installs it as root; see README)`;
  if (!optedOut('mosquitto'))
    throw new Error(`${reason}. To run without it on purpose, set HEXEDGE_SKIP_REAL_PARTS=mosquitto.`);
  recordSkip({ part: 'mosquitto', reason, testFile });
  return { skip: true };
}

export interface ShellRun {
  /** Resolves once a stdout line matches (rejects if the command exits first). */
  waitFor(pattern: RegExp): Promise<string>;
  /** Every stdout line, once the command exited (rejects past `timeoutMs`, killing it). */
  done: Promise<{ code: number | null; stdout: string[]; stderr: string }>;
}

/** Runs a README line in bash, as a reader pasting it would, with API_KEY set; killed past `timeoutMs`. */
export function runShell(line: string, options: { apiKey: string; timeoutMs: number }): ShellRun {
  // Line-buffered (coreutils' stdbuf): into a pipe, the clients' stdio would hold the -d marker lines back.
  const child = spawn('stdbuf', ['-oL', 'bash', '-c', line], {
    env: { ...process.env, API_KEY: options.apiKey },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  let stderr = '';
  const watchers = new Set<(l: string) => void>();
  createInterface({ input: child.stdout }).on('line', (l) => {
    stdout.push(l);
    for (const w of [...watchers]) w(l);
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; stdout: string[]; stderr: string }>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `no end within ${options.timeoutMs} ms: ${line}\nstdout: ${stdout.join('\n')}\nstderr: ${stderr}`,
        ),
      );
    }, options.timeoutMs);
    // 'close', not 'exit': every line of stdout has been read by then.
    child.once('close', (code) => (clearTimeout(timer), resolve({ code, stdout, stderr })));
  });
  const waitFor = (pattern: RegExp) =>
    new Promise<string>((resolve, reject) => {
      const seen = stdout.find((l) => pattern.test(l));
      if (seen !== undefined) return resolve(seen);
      const watch = (l: string) => {
        if (!pattern.test(l)) return;
        watchers.delete(watch);
        resolve(l);
      };
      watchers.add(watch);
      void done.then(
        (r) => watchers.has(watch) && reject(new Error(`exited (${r.code}) before ${pattern}: ${r.stderr}`)),
        reject,
      );
    });
  return { waitFor, done };
}

/**
 * A `mosquitto_sub` line bounded for a test: `-C count` messages, `-W` seconds at most, and `-d`, whose
 * "Subscribed" line is the positive marker that the subscription is in place before anything is sent.
 */
export function startSub(line: string, options: { apiKey: string; count: number; timeoutS: number }) {
  const run = runShell(`${line} -C ${options.count} -W ${options.timeoutS} -d`, {
    apiKey: options.apiKey,
    timeoutMs: (options.timeoutS + 10) * 1000,
  });
  return {
    subscribed: run.waitFor(/^Subscribed \(mid: \d+\): /),
    /** The messages, as the line's output format prints them (the debug lines left out). */
    messages: run.done.then((r) => ({
      ...r,
      messages: r.stdout.filter((l) => !/^(Client \S+ (sending|received) |Subscribed \(mid)/.test(l)),
      /** The QoS the broker granted ("Subscribed (mid: 1): 0"); 128 is a refusal. */
      granted: r.stdout.map((l) => /^Subscribed \(mid: \d+\): (\d+)$/.exec(l)?.[1]).find(Boolean),
    })),
  };
}
