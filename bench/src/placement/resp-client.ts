/**
 * A minimal RESP2 client over `node:net` for the Redis peer (no npm dependency): one connection, TCP
 * no-delay, commands as arrays of bulk strings, replies answered in order. `pipeline` writes a whole
 * batch in one socket write and resolves when every reply is in, like `redis-benchmark -P`.
 */
import net from 'node:net';

export type RespReply = string | number | null | RespReply[];

/** A `-ERR …` reply: the server refused the command (the connection stays usable). */
export class RespError extends Error {}

const CR = 13;
const INCOMPLETE = Symbol('incomplete');
type Parsed = { value: RespReply | RespError; end: number } | typeof INCOMPLETE;

/** Parses one reply starting at `start`; INCOMPLETE when the buffer ends before it does. */
function parseReply(buf: Buffer, start: number): Parsed {
  const lineEnd = buf.indexOf(CR, start);
  if (lineEnd < 0 || lineEnd + 1 >= buf.length) return INCOMPLETE;
  const type = buf[start];
  const line = buf.toString('latin1', start + 1, lineEnd);
  const next = lineEnd + 2;
  switch (type) {
    case 0x2b: // '+' simple string
      return { value: line, end: next };
    case 0x2d: // '-' error
      return { value: new RespError(line), end: next };
    case 0x3a: // ':' integer
      return { value: Number(line), end: next };
    case 0x24: {
      // '$' bulk string
      const length = Number(line);
      if (length < 0) return { value: null, end: next };
      if (next + length + 2 > buf.length) return INCOMPLETE;
      return { value: buf.toString('utf8', next, next + length), end: next + length + 2 };
    }
    case 0x2a: {
      // '*' array
      const count = Number(line);
      if (count < 0) return { value: null, end: next };
      const items: RespReply[] = [];
      let at = next;
      for (let i = 0; i < count; i++) {
        const item = parseReply(buf, at);
        if (item === INCOMPLETE) return INCOMPLETE;
        if (item.value instanceof RespError) return { value: item.value, end: item.end };
        items.push(item.value);
        at = item.end;
      }
      return { value: items, end: at };
    }
    default:
      throw new Error(`RESP: unexpected reply type byte ${type} at offset ${start}`);
  }
}

export function encodeCommand(args: readonly (string | number)[]): string {
  let out = `*${args.length}\r\n`;
  for (const a of args) {
    const s = String(a);
    out += `$${Buffer.byteLength(s)}\r\n${s}\r\n`;
  }
  return out;
}

interface Waiter {
  resolve: (v: RespReply) => void;
  reject: (e: Error) => void;
}

export class RespClient {
  readonly #socket: net.Socket;
  readonly #waiting: Waiter[] = [];
  #head = 0;
  #pending: Buffer | null = null;
  #failure: Error | null = null;

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (err) => this.#fail(err));
    socket.on('close', () => this.#fail(new Error('RESP connection closed')));
  }

  static connect(options: { port: number; host?: string }): Promise<RespClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port: options.port, host: options.host ?? '127.0.0.1' });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RespClient(socket));
      });
    });
  }

  /** One command, one round trip. */
  send(args: readonly (string | number)[]): Promise<RespReply> {
    return this.#enqueue(encodeCommand(args));
  }

  /** Many commands in one write; the replies in order (a refused command rejects the batch). */
  pipeline(commands: readonly (readonly (string | number)[])[]): Promise<RespReply[]> {
    if (commands.length === 0) return Promise.resolve([]);
    const replies = commands.map(() => new Promise<RespReply>((resolve, reject) => this.#waiting.push({ resolve, reject })));
    this.#write(commands.map(encodeCommand).join(''));
    return Promise.all(replies);
  }

  close(): void {
    this.#failure ??= new Error('RESP client closed');
    this.#socket.end();
  }

  #enqueue(wire: string): Promise<RespReply> {
    const reply = new Promise<RespReply>((resolve, reject) => this.#waiting.push({ resolve, reject }));
    this.#write(wire);
    return reply;
  }

  #write(wire: string): void {
    if (this.#failure) throw this.#failure;
    this.#socket.write(wire);
  }

  #onData(chunk: Buffer): void {
    let buf = this.#pending ? Buffer.concat([this.#pending, chunk]) : chunk;
    let at = 0;
    while (at < buf.length) {
      const parsed = parseReply(buf, at);
      if (parsed === INCOMPLETE) break;
      at = parsed.end;
      const waiter = this.#waiting[this.#head++];
      if (!waiter) throw new Error('RESP: reply without a pending command');
      if (parsed.value instanceof RespError) waiter.reject(parsed.value);
      else waiter.resolve(parsed.value);
    }
    // Compact the FIFO now and then instead of shift()ing on every reply.
    if (this.#head > 4096 && this.#head * 2 > this.#waiting.length) {
      this.#waiting.splice(0, this.#head);
      this.#head = 0;
    }
    buf = buf.subarray(at);
    this.#pending = buf.length ? Buffer.from(buf) : null;
  }

  #fail(err: Error): void {
    this.#failure ??= err;
    for (let i = this.#head; i < this.#waiting.length; i++) this.#waiting[i]!.reject(err);
    this.#waiting.length = 0;
    this.#head = 0;
  }
}
