/**
 * A stable 32-bit hash of a string: FNV-1a over its UTF-16 code units, then murmur3's finaliser so
 * strings that differ in one character land far apart. The same input gives the same number in every
 * process and release, which is what sticky assignments need (a caller stays on one model version, a
 * node stays in or out of a canary). Not for secrets: anyone can compute it.
 */
export function stableHash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Where `text` falls in [0, 1): a stable, uniform share for "the first p of them". */
export const stableUnit = (text: string): number => stableHash32(text) / 4294967296;
