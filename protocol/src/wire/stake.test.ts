import { beforeAll, describe, expect, it } from 'vitest';
import { generateNodeKeyPair, type NodeKeyPair } from '../identity.ts';
import { isValidStakeMessage, signBond, signDeposit, signedStakeMessageSchema, signUnbond } from './stake.ts';

let operator: NodeKeyPair, node: NodeKeyPair, other: NodeKeyPair;
beforeAll(async () => {
  [operator, node, other] = await Promise.all([1, 2, 3].map(() => generateNodeKeyPair()));
});

describe('stake messages', () => {
  it('a bond needs the operator’s signature and the node’s consent over the same body', async () => {
    const bond = await signBond({ operator, node, amountBaseUnits: 10n ** 9n, nowMs: 1 });
    expect(signedStakeMessageSchema.parse(bond)).toEqual(bond);
    expect(await isValidStakeMessage(bond)).toBe(true);
    // Consent by another key (an operator pinning someone else's node to itself), or none.
    const stolen = await signBond({ operator, node: other, amountBaseUnits: 10n ** 9n, nowMs: 1 });
    expect(await isValidStakeMessage({ ...bond, nodeSignature: stolen.nodeSignature! })).toBe(false);
    const { nodeSignature: _dropped, ...unconsented } = bond;
    expect(await isValidStakeMessage(unconsented)).toBe(false);
    expect(
      await isValidStakeMessage({ ...bond, body: { ...bond.body, amountBaseUnits: '2000000000' } }),
    ).toBe(false);
  });

  it('deposits and unbonds are signed by their sender; amounts are positive decimal strings', async () => {
    expect(
      await isValidStakeMessage(
        await signDeposit({ treasury: other, accountId: operator.nodeId, amountBaseUnits: 5n, nowMs: 1 }),
      ),
    ).toBe(true);
    expect(
      await isValidStakeMessage(
        await signUnbond({ operator, nodeId: node.nodeId, amountBaseUnits: 5n, nowMs: 1 }),
      ),
    ).toBe(true);
    const bond = await signBond({ operator, node, amountBaseUnits: 1n, nowMs: 1 });
    for (const amountBaseUnits of ['0', '-1', '1.5', '1e9', 'x'.repeat(5)])
      expect(
        signedStakeMessageSchema.safeParse({ ...bond, body: { ...bond.body, amountBaseUnits } }).success,
      ).toBe(false);
  });
});
