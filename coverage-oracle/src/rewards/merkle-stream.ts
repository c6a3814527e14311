import { sha256Hex, type Sha256Hex } from '@hexedge/protocol';
import { LEAF_PREFIX, NODE_PREFIX } from './merkle.ts';

const HEX_VALUES = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) HEX_VALUES['0123456789abcdef'.charCodeAt(i)] = i;
for (let i = 10; i < 16; i++) HEX_VALUES['ABCDEF'.charCodeAt(i - 10)] = i;

/** Writes 32 bytes from 64 hex digits at `offset`; false (nothing promised about `into`) when they are not. */
function writeHex32(into: Uint8Array, offset: number, hex: string): boolean {
  if (hex.length !== 64) return false;
  for (let i = 0; i < 32; i++) {
    const hi = HEX_VALUES[hex.charCodeAt(2 * i)] ?? -1;
    const lo = HEX_VALUES[hex.charCodeAt(2 * i + 1)] ?? -1;
    if (hi < 0 || lo < 0) return false;
    into[offset + i] = (hi << 4) | lo;
  }
  return true;
}

/**
 * The root `merkleRoot` gives over a list of 32-byte leaves (SHA-256 hex strings), fed one leaf at a
 * time in order: O(log n) hashes held, never the leaves. Level-by-level pairing with the odd last node
 * promoted is the same tree as folding the perfect subtrees of the binary decomposition of n from the
 * right: complete pairs merge as they form (a binary counter on the stack) and `root()` folds what is
 * left, right to left. With a synchronous SHA-256 (node:crypto's, injected on Node) nothing awaits per
 * leaf; WebCrypto's async digest is the default elsewhere.
 */
export class MerkleRootStream {
  /** Synchronous when the injected hash says so (`utf8`: it reads its input before returning). */
  readonly #syncHash: ((bytes: Uint8Array) => string) | undefined;
  readonly #asyncHash: Sha256Hex;
  /** Perfect subtrees' roots (hex) and heights, heights strictly decreasing from the bottom. */
  readonly #stack: Array<{ height: number; hash: string }> = [];
  readonly #leafInput = new Uint8Array(33);
  readonly #nodeInput = new Uint8Array(65);
  #count = 0;

  constructor(options: { sha256?: Sha256Hex } = {}) {
    const injected = options.sha256;
    this.#syncHash = injected?.utf8 ? (bytes) => injected(bytes) as string : undefined;
    this.#asyncHash = injected ?? sha256Hex;
    this.#leafInput[0] = LEAF_PREFIX;
    this.#nodeInput[0] = NODE_PREFIX;
  }

  get leafCount(): number {
    return this.#count;
  }

  /** Adds the next leaves in order: SHA-256s as 64 hex digits (throws for anything else, naming it). */
  async push(leavesHex: Iterable<string>): Promise<void> {
    const sync = this.#syncHash;
    for (const leafHex of leavesHex) {
      if (!writeHex32(this.#leafInput, 1, leafHex))
        throw new TypeError(
          `Merkle leaf ${JSON.stringify(String(leafHex).slice(0, 80))} is not 64 hex digits`,
        );
      let hash = sync ? sync(this.#leafInput) : await this.#asyncHash(this.#leafInput.slice());
      let height = 0;
      for (let top = this.#stack.at(-1); top && top.height === height; top = this.#stack.at(-1)) {
        this.#stack.pop();
        writeHex32(this.#nodeInput, 1, top.hash);
        writeHex32(this.#nodeInput, 33, hash);
        hash = sync ? sync(this.#nodeInput) : await this.#asyncHash(this.#nodeInput.slice());
        height++;
      }
      this.#stack.push({ height, hash });
      this.#count++;
    }
  }

  /** The root over every leaf pushed so far (SHA-256 of no bytes for none). */
  async root(): Promise<string> {
    const digest = async (input: Uint8Array) =>
      this.#syncHash ? this.#syncHash(input) : await this.#asyncHash(input.slice());
    if (this.#stack.length === 0) return digest(new Uint8Array(0));
    let acc = this.#stack.at(-1)!.hash;
    for (let i = this.#stack.length - 2; i >= 0; i--) {
      writeHex32(this.#nodeInput, 1, this.#stack[i]!.hash);
      writeHex32(this.#nodeInput, 33, acc);
      acc = await digest(this.#nodeInput);
    }
    return acc;
  }
}
