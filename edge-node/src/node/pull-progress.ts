import cliProgress, { type SingleBar } from 'cli-progress';
import type { PullProgressEvent } from './pull.ts';

/** Without a terminal (logs, CI, `hexedge dev`'s children) one line this often is plenty. */
const LOG_INTERVAL_MS = 2_000;

export function formatBytes(sizeBytes: number): string {
  if (sizeBytes < 1024) return `${sizeBytes} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let value = sizeBytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/**
 * Shows pulls to an operator: a cli-progress bar when the stream is a terminal, otherwise periodic
 * log lines (a bar's carriage returns make a mess of log files). Every source's outcome is logged,
 * so a refused peer (bad hash, too large) is visible either way.
 */
export function createPullProgress(options: {
  stream: NodeJS.WriteStream;
  log: (message: string) => void;
  intervalMs?: number;
}): (event: PullProgressEvent) => void {
  const intervalMs = options.intervalMs ?? LOG_INTERVAL_MS;
  let bar: SingleBar | undefined;
  let lastLogMs = 0;
  let startedMs = 0;
  return (event) => {
    const m = event.manifest;
    const name = `${m.name}@${m.version}`;
    if (event.phase === 'start') {
      startedMs = performance.now();
      lastLogMs = startedMs;
      if (options.stream.isTTY) {
        bar = new cliProgress.SingleBar(
          {
            stream: options.stream,
            hideCursor: true,
            clearOnComplete: true,
            format: `${name} {bar} {percentage}% | {received}/{size} | {speed} | ETA {eta}s | ${event.source.url}`,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(m.sizeBytes, 0, { received: '0 B', size: formatBytes(m.sizeBytes), speed: '-' });
      } else {
        options.log(
          `pulling ${name} (${formatBytes(m.sizeBytes)}, ${m.contentId.slice(0, 12)}) from ${event.source.kind} ${event.source.url}`,
        );
      }
    } else if (event.phase === 'data') {
      const nowMs = performance.now();
      const perSecond = (event.receivedBytes / Math.max(nowMs - startedMs, 1)) * 1000;
      if (bar) {
        bar.update(event.receivedBytes, {
          received: formatBytes(event.receivedBytes),
          speed: `${formatBytes(perSecond)}/s`,
        });
      } else if (nowMs - lastLogMs >= intervalMs) {
        lastLogMs = nowMs;
        const percent = ((event.receivedBytes / m.sizeBytes) * 100).toFixed(0);
        options.log(
          `pulling ${name}: ${percent}% (${formatBytes(event.receivedBytes)} of ${formatBytes(m.sizeBytes)}, ${formatBytes(perSecond)}/s)`,
        );
      }
    } else {
      bar?.stop();
      bar = undefined;
      const seconds = ((performance.now() - startedMs) / 1000).toFixed(1);
      options.log(
        event.attempt.outcome === 'ok'
          ? `pulled ${name} from ${event.source.kind} ${event.source.url} in ${seconds} s (${event.attempt.message})`
          : `${event.source.kind} ${event.source.url} did not deliver ${name}: ${event.attempt.message}`,
      );
    }
  };
}
