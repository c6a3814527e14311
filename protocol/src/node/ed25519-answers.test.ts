import { describe, expect, it } from 'vitest';
import { generateNodeKeyPair } from '../identity.ts';
import {
  isValidSignature,
  signBody,
  useEd25519Engine,
  webCryptoEd25519,
  type Ed25519Engine,
  type Signed,
} from '../signing.ts';
import { nodeEd25519, nodeEd25519OnPool } from './ed25519.ts';
import { sodiumEd25519, sodiumMissing } from './ed25519-sodium.ts';

/** What isValidSignature answers on an engine, a throw included (every engine must answer alike). */
async function answerOn(
  engine: Ed25519Engine,
  kind: 'receipt' | 'report',
  signed: Signed<{ nodeId: string }>,
) {
  const previous = useEd25519Engine(engine);
  try {
    return await isValidSignature(kind, signed);
  } catch (err) {
    return `throws ${(err as Error).name}`;
  } finally {
    useEd25519Engine(previous);
  }
}
const webAnswer = (kind: 'receipt' | 'report', signed: Signed<{ nodeId: string }>) =>
  answerOn(webCryptoEd25519, kind, signed);

describe('isValidSignature answers alike on libsodium, node:crypto (synchronous and thread pool) and WebCrypto', () => {
  it('on valid, tampered, re-kinded, re-signed and malformed messages', async () => {
    // sodium-native is a dependency: a build without it is a broken install, not a skip.
    expect(sodiumMissing).toBeUndefined();
    const [alice, bob] = await Promise.all([generateNodeKeyPair(), generateNodeKeyPair()]);
    const good = await signBody(
      'receipt',
      { nodeId: alice.nodeId, n: 1, text: 'é😀\ud800' },
      alice.privateKey,
    );
    const sig = good.signature;
    const flip = (s: string, at: number) => s.slice(0, at) + (s[at] === 'A' ? 'B' : 'A') + s.slice(at + 1);
    const cases: Array<[kind: 'receipt' | 'report', Signed<{ nodeId: string }>]> = [
      ['receipt', good],
      ['report', good],
      ['receipt', { ...good, body: { ...good.body, n: 2 } }],
      ['receipt', { ...good, body: { ...good.body, nodeId: bob.nodeId } }],
      ['receipt', { ...good, signature: flip(sig, 0) }],
      ['receipt', { ...good, signature: flip(sig, 85) }],
      ['receipt', { ...good, signature: sig.slice(0, 85) }],
      ['receipt', { ...good, signature: sig + 'A' }],
      ['receipt', { ...good, signature: sig + 'AA' }],
      ['receipt', { ...good, signature: sig.slice(0, 84) + '==' }],
      ['receipt', { ...good, signature: sig.replace(/[-_]/g, '+') }],
      ['receipt', { ...good, signature: '' }],
      ['receipt', { ...good, signature: 123 as unknown as string }],
      ['receipt', { ...good, body: { ...good.body, nodeId: 'A'.repeat(43) } }],
      ['receipt', { ...good, body: { ...good.body, nodeId: '_'.repeat(43) } }],
      ['receipt', { ...good, body: { ...good.body, nodeId: alice.nodeId.slice(0, 42) } }],
      ['receipt', { ...good, body: { ...good.body, nodeId: 7 as unknown as string } }],
      ['receipt', { body: undefined as unknown as { nodeId: string }, signature: sig }],
    ];
    // A node id whose last character carries nonzero spare bits (same 32 bytes for a lenient decoder).
    const last = alice.nodeId.at(-1)!;
    const spare = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const twin = alice.nodeId.slice(0, 42) + spare[(spare.indexOf(last) & ~3) | 1];
    cases.push(['receipt', { ...good, body: { ...good.body, nodeId: twin } }]);
    const answers = [];
    for (const [kind, signed] of cases) {
      const web = await webAnswer(kind, signed);
      for (const engine of [nodeEd25519, nodeEd25519OnPool, sodiumEd25519!])
        expect(
          await answerOn(engine, kind, signed),
          `${engine.name}: ${kind} ${JSON.stringify(signed).slice(0, 120)}`,
        ).toBe(web);
      answers.push(web);
    }
    expect(answers[0]).toBe(true);
    // Tampered body, another signer, a flipped first signature character: refused by both. (Spare bits
    // in a last base64url character decode to the same bytes, so such twins verify in both alike.)
    expect(answers.slice(2, 5)).toEqual([false, false, false]);
  });
});
