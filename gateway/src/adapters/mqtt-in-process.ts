import { Duplex } from 'node:stream';

/**
 * One end of an in-process byte stream: what one side writes, the other reads, in order, with
 * backpressure (a write completes once the reader has room) and a close on either side closing both,
 * as a TCP connection would. MQTT runs over it unchanged (the same packets, parsers, QoS and acks);
 * only the kernel round trips of a loopback socket are gone.
 */
class StreamEnd extends Duplex {
  peer!: StreamEnd;
  #waitingWrite: (() => void) | undefined;

  override _read(): void {
    const resume = this.peer.#waitingWrite;
    this.peer.#waitingWrite = undefined;
    resume?.();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    this.#deliver(chunk, done);
  }

  // mqtt-packet corks the stream per packet: a packet's pieces (and the packets of one tick) arrive as one chunk.
  override _writev(chunks: { chunk: Buffer }[], done: (err?: Error | null) => void): void {
    this.#deliver(chunks.length === 1 ? chunks[0]!.chunk : Buffer.concat(chunks.map((c) => c.chunk)), done);
  }

  #deliver(chunk: Buffer, done: () => void): void {
    if (this.peer.destroyed) return done();
    if (this.peer.push(chunk)) done();
    else this.#waitingWrite = done;
  }

  override _final(done: (err?: Error | null) => void): void {
    if (!this.peer.destroyed) this.peer.push(null);
    done();
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    // Either end closing is the connection closing: the other end sees 'close' too (no half-open state).
    if (!this.peer.destroyed) this.peer.destroy();
    done(err);
  }
}

/** A connected pair of stream ends, as `[client, server]`. */
export function inProcessConnection(): [Duplex, Duplex] {
  const client = new StreamEnd();
  const server = new StreamEnd();
  client.peer = server;
  server.peer = client;
  return [client, server];
}
