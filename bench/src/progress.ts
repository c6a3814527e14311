/**
 * A one-line progress bar on a terminal (`[██░░░░] 2/6 inference 14 s`), redrawn every second while a
 * suite runs; plain start lines when output goes to a file or CI log.
 */
export function suiteProgress(options: { total: number; stream?: NodeJS.WriteStream }) {
  const stream = options.stream ?? process.stderr;
  const width = 20;
  let timer: ReturnType<typeof setInterval> | undefined;
  return {
    start(index: number, name: string): void {
      const started = Date.now();
      if (!stream.isTTY) {
        stream.write(`[${index + 1}/${options.total}] ${name}…\n`);
        return;
      }
      const draw = () => {
        const done = Math.round((index / options.total) * width);
        const bar = '█'.repeat(done) + '░'.repeat(width - done);
        stream.write(`\r[${bar}] ${index + 1}/${options.total} ${name} ${Math.round((Date.now() - started) / 1000)} s   `);
      };
      draw();
      timer = setInterval(draw, 1000);
      timer.unref();
    },
    end(): void {
      if (timer) clearInterval(timer);
      timer = undefined;
      if (stream.isTTY) stream.write('\r\x1b[K');
    },
  };
}
