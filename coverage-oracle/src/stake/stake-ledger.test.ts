import { signBond, signDeposit, signUnbond, STAKE_PATH, type NodeKeyPair } from '@hexedge/protocol';
import { beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../../test/fixtures/reports.ts';
import { makeOracle } from '../../test/fixtures/oracle.ts';
import { createOracleApp } from '../http/oracle-app.ts';
import { MemoryOracleStore } from '../store/memory-store.ts';
import { MAX_PENDING_UNBONDS, StakeLedger } from './stake-ledger.ts';

const DAY_MS = 24 * 3600_000;
const T0 = 1_750_000_000_000;
let treasury: NodeKeyPair,
  operator: NodeKeyPair,
  node: NodeKeyPair,
  rival: NodeKeyPair,
  oracleKeys: NodeKeyPair;
beforeAll(async () => {
  [treasury, operator, node, rival, oracleKeys] = await keys(5);
});

describe('StakeLedger', () => {
  it('bonds from an operator’s deposits, one operator per node, and keeps unbonded stake slashable until the delay has passed', () => {
    const ledger = new StakeLedger({ store: new MemoryOracleStore(), unbondDelayMs: 7 * DAY_MS });
    ledger.deposit({ accountId: 'op', amountBaseUnits: 1000n, atMs: 0 });
    expect(() =>
      ledger.bond({ nodeId: 'n', operatorId: 'op', amountBaseUnits: 1001n, atMs: 1, fromAccount: true }),
    ).toThrow(/1000 base units free/);
    ledger.bond({ nodeId: 'n', operatorId: 'op', amountBaseUnits: 800n, atMs: 1, fromAccount: true });
    expect(ledger.accountOf('op', 1)).toEqual({
      accountId: 'op',
      freeBaseUnits: '200',
      bonds: [{ nodeId: 'n', bondedBaseUnits: '800', unbondingBaseUnits: '0', releasesAtMs: null }],
    });
    expect(ledger.operatorOf('n')).toBe('op');
    expect(() => ledger.bond({ nodeId: 'n', operatorId: 'rival', amountBaseUnits: 1n, atMs: 2 })).toThrow(
      expect.objectContaining({ code: 'FORBIDDEN' }),
    );

    const releasesAtMs = ledger.unbond({ nodeId: 'n', operatorId: 'op', amountBaseUnits: 400n, atMs: 10 });
    expect(releasesAtMs).toBe(10 + 7 * DAY_MS);
    expect(() => ledger.unbond({ nodeId: 'n', operatorId: 'op', amountBaseUnits: 401n, atMs: 11 })).toThrow(
      /\(0, 400\]/,
    );
    // Still bonded and slashable while unbonding: a fraud found during the delay costs the whole stake's share.
    expect(ledger.balanceOf('n', 20)).toBe(800n);
    expect(ledger.slash({ nodeId: 'n', evidenceId: 'e', evidence: {}, atMs: 20 })).toMatchObject({
      slashed: true,
      amountBaseUnits: 400n,
      balanceBaseUnits: 400n,
    });
    // The slash reached the unbonding part in proportion: 200 of the 400 asked back are released.
    expect(ledger.stakeOf('n', 21)).toMatchObject({ bondedBaseUnits: 400n, unbondingBaseUnits: 200n });
    expect(ledger.balanceOf('n', releasesAtMs)).toBe(200n);
    expect(ledger.accountOf('op', releasesAtMs).freeBaseUnits).toBe('400');
  });
});

describe('POST /v1/oracle/stake', () => {
  function setup() {
    let now = T0;
    const env = makeOracle({ oracleKeys, nowMs: T0 });
    const app = createOracleApp({
      oracle: env.oracle,
      oracleId: oracleKeys.nodeId,
      store: env.store,
      treasuryIds: [treasury.nodeId],
      nowMs: () => now,
    });
    const post = async (message: unknown) => {
      const res = await app.request(STAKE_PATH, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(message),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    return { ...env, app, post, setNow: (ms: number) => (now = ms) };
  }

  it('credits deposits from the treasury only, bonds with the node’s consent, and unbonds after the delay', async () => {
    const { post, oracle, app, setNow } = setup();
    expect(
      (
        await post(
          await signDeposit({
            treasury: operator,
            accountId: operator.nodeId,
            amountBaseUnits: 10n ** 12n,
            nowMs: T0,
          }),
        )
      ).body,
    ).toMatchObject({ error: { code: 'FORBIDDEN' } });
    const deposit = await signDeposit({
      treasury,
      accountId: operator.nodeId,
      amountBaseUnits: 10n ** 9n,
      nowMs: T0,
    });
    expect(await post(deposit)).toMatchObject({
      status: 200,
      body: { accountId: operator.nodeId, freeBaseUnits: '1000000000' },
    });
    expect((await post(deposit)).body).toMatchObject({ error: { code: 'REPLAYED' } });

    const bond = await signBond({ operator, node, amountBaseUnits: 6n * 10n ** 8n, nowMs: T0 });
    const { nodeSignature: _consent, ...unconsented } = bond;
    expect((await post(unconsented)).body).toMatchObject({ error: { code: 'BAD_SIGNATURE' } });
    expect(
      (await post(await signBond({ operator, node, amountBaseUnits: 2n * 10n ** 9n, nowMs: T0 }))).body,
    ).toMatchObject({ error: { code: 'INVALID_REQUEST' } });
    expect(await post(bond)).toMatchObject({
      status: 200,
      body: { freeBaseUnits: '400000000', bonds: [{ nodeId: node.nodeId, bondedBaseUnits: '600000000' }] },
    });
    expect(oracle.ledger.operatorOf(node.nodeId)).toBe(operator.nodeId);
    // A rival cannot take the node over, even with its consent, while it is bonded.
    await post(
      await signDeposit({ treasury, accountId: rival.nodeId, amountBaseUnits: 10n ** 9n, nowMs: T0 }),
    );
    expect(
      (await post(await signBond({ operator: rival, node, amountBaseUnits: 1n, nowMs: T0 }))).body,
    ).toMatchObject({ error: { code: 'FORBIDDEN' } });
    // Nor unbond it; and an old message is stale.
    expect(
      (await post(await signUnbond({ operator: rival, nodeId: node.nodeId, amountBaseUnits: 1n, nowMs: T0 })))
        .body,
    ).toMatchObject({ error: { code: 'FORBIDDEN' } });
    expect(
      (
        await post(
          await signUnbond({ operator, nodeId: node.nodeId, amountBaseUnits: 1n, nowMs: T0 - 6 * 60_000 }),
        )
      ).body,
    ).toMatchObject({ error: { code: 'STALE_MESSAGE' } });

    expect(
      (
        await post(
          await signUnbond({ operator, nodeId: node.nodeId, amountBaseUnits: 6n * 10n ** 8n, nowMs: T0 }),
        )
      ).status,
    ).toBe(200);
    expect(oracle.ledger.balanceOf(node.nodeId, T0 + 1)).toBe(6n * 10n ** 8n);
    setNow(T0 + 7 * DAY_MS);
    const account = (await (await app.request(`${STAKE_PATH}/${operator.nodeId}`)).json()) as {
      freeBaseUnits: string;
    };
    expect(account.freeBaseUnits).toBe('1000000000');
    expect((await app.request(`${STAKE_PATH}/nope`)).status).toBe(400);
  });

  it('refuses an unbond past the pending limit with a clear error, and takes one again once one is released', async () => {
    // Each signed unbond costs its operator nothing and is state the oracle replays on every stake read:
    // an operator splitting its stake into tens of thousands of unbonds once cost the oracle minutes.
    const { post, oracle, setNow } = setup();
    await post(
      await signDeposit({ treasury, accountId: operator.nodeId, amountBaseUnits: 10n ** 9n, nowMs: T0 }),
    );
    await post(await signBond({ operator, node, amountBaseUnits: 10n ** 6n, nowMs: T0 }));
    const unbond = async (atMs: number) =>
      post(await signUnbond({ operator, nodeId: node.nodeId, amountBaseUnits: 1n, nowMs: atMs }));
    for (let i = 0; i < MAX_PENDING_UNBONDS; i++) {
      setNow(T0 + i);
      expect((await unbond(T0 + i)).status).toBe(200);
    }
    setNow(T0 + MAX_PENDING_UNBONDS);
    const refused = await unbond(T0 + MAX_PENDING_UNBONDS);
    expect(refused.status).toBe(400);
    expect((refused.body.error as { message: string }).message).toBe(
      `node ${node.nodeId} has ${MAX_PENDING_UNBONDS} unbonds pending, the most it may have; the next is released at ${new Date(T0 + 7 * DAY_MS).toISOString()}`,
    );
    expect(oracle.ledger.stakeOf(node.nodeId, T0 + MAX_PENDING_UNBONDS).unbondingBaseUnits).toBe(
      BigInt(MAX_PENDING_UNBONDS),
    );
    // The first one released: room for one more.
    setNow(T0 + 7 * DAY_MS);
    expect((await unbond(T0 + 7 * DAY_MS)).status).toBe(200);
  });
});
