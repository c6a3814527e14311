import { describe, expect, it } from 'vitest';
import { KeyRing } from '../keys/key-ring.ts';
import { MemoryKeyStore } from '../keys/key-store.ts';
import { BrokerAccess } from './access.ts';
import { DeviceCredentials, hashDevicePassword, verifyDevicePassword } from './device-credentials.ts';
import { mosquittoDynamicSecurity } from './mosquitto-files.ts';

const setup = async () => {
  const devices = new DeviceCredentials();
  await devices.add({ id: 'd1', password: 'password-1', models: ['m'], iterations: 1_000 });
  await devices.add({ id: 'd2', password: 'password-2', iterations: 1_000 });
  const keys = new KeyRing({ store: new MemoryKeyStore() });
  const admin = await keys.create({ name: 'admin', role: 'admin' });
  const app = await keys.create({ name: 'app' });
  return {
    devices,
    access: new BrokerAccess({ devices, keys }),
    admin: admin.key,
    app: app.key,
    appId: app.record.id,
  };
};

describe('device credentials and broker access', () => {
  it('hashes in Mosquitto’s $7$ format with a fresh salt, and verifies', async () => {
    const h = await hashDevicePassword('secret-123', { iterations: 1_000 });
    expect(h).toMatch(/^\$7\$1000\$[A-Za-z0-9+/]{16}\$[A-Za-z0-9+/]{86}==$/);
    expect(await hashDevicePassword('secret-123', { iterations: 1_000 })).not.toBe(h);
    expect(await verifyDevicePassword('secret-123', h)).toBe(true);
    expect(await verifyDevicePassword('secret-124', h)).toBe(false);
    expect(await verifyDevicePassword('secret-123', 'not-a-hash')).toBe(false);
  });

  it('authenticates devices by id = client id = username, and API keys with any username on their own client ids', async () => {
    const { access, admin, app, appId } = await setup();
    expect(
      (await access.authenticate({ clientId: 'd1', username: 'd1', password: 'password-1' }))?.kind,
    ).toBe('device');
    expect(
      await access.authenticate({ clientId: 'd1', username: 'd1', password: 'password-2' }),
    ).toBeUndefined();
    expect(
      await access.authenticate({ clientId: 'd2', username: 'd1', password: 'password-1' }),
    ).toBeUndefined();
    expect((await access.authenticate({ clientId: 'cli', username: 'x', password: admin }))?.kind).toBe(
      'admin',
    );
    expect((await access.authenticate({ clientId: appId, password: app }))?.kind).toBe('app');
    expect((await access.authenticate({ clientId: `${appId}.sensor-feed`, password: app }))?.kind).toBe(
      'app',
    );
    // An app key may take no other client's id: not a device's, not the gateway ingress's.
    expect(await access.authenticate({ clientId: 'd2', password: app })).toBeUndefined();
    expect(await access.authenticate({ clientId: 'hexedge-dev-gateway', password: app })).toBeUndefined();
    expect(await access.authenticate({ clientId: `${appId}x`, password: app })).toBeUndefined();
    expect(await access.authenticate({ clientId: 'a/b', password: admin })).toBeUndefined();
  });

  it('confines non-admins to their own topics and models', async () => {
    const { access } = await setup();
    const d1 = (await access.authenticate({ clientId: 'd1', username: 'd1', password: 'password-1' }))!;
    expect(access.canPublish(d1, 'hexedge/v1/req/d1/1')).toBe(true);
    expect(access.canPublish(d1, 'hexedge/v1/req/d2/1')).toBe(false);
    expect(access.canPublish(d1, 'hexedge/v1/infer/d1/m')).toBe(true);
    expect(access.canPublish(d1, 'hexedge/v1/infer/d1/other')).toBe(false);
    expect(access.canPublish(d1, 'hexedge/v1/infer/d2/m')).toBe(false); // in another device's name
    expect(access.canPublish(d1, 'hexedge/v1/infer/m')).toBe(false); // the old form named no sender
    expect(access.canPublish(d1, 'elsewhere')).toBe(false);
    expect(access.canSubscribe(d1, 'hexedge/v1/res/d1/#')).toBe(true);
    expect(access.canSubscribe(d1, 'hexedge/v1/res/#')).toBe(false);
    expect(access.canSubscribe(d1, 'hexedge/v1/res/d10/#')).toBe(false);
    // The request topics are the gateway's, shared or not.
    for (const f of [
      'hexedge/v1/req/+/+',
      '$share/hexedge/hexedge/v1/req/+/+',
      '$share/hexedge/hexedge/v1/infer/+/+',
      '#',
    ])
      expect(access.canSubscribe(d1, f)).toBe(false);
    expect(access.principalOf('d2')?.kind).toBe('device');
    expect(access.principalOf('nobody')).toBeUndefined();
  });

  it('writes the dynamic-security config from the stored hashes: client ids bound, subscriptions confined', async () => {
    const { devices } = await setup();
    const admins = [{ username: 'gw', passwordHash: '$7$1$AAAA$BBBB' }];
    const config = mosquittoDynamicSecurity({ devices: devices.store.list(), admins });
    expect(config.defaultACLAccess).toEqual({
      publishClientSend: false,
      publishClientReceive: false,
      subscribe: false,
      unsubscribe: true,
    });
    const d1 = config.clients.find((c) => c.username === 'd1')!;
    const [, , iterations, salt, hash] = devices.get('d1')!.passwordHash.split('$');
    expect(d1).toMatchObject({
      clientid: 'd1',
      iterations: Number(iterations),
      salt,
      password: hash,
      roles: [{ rolename: 'device-d1' }],
    });
    expect(config.clients.find((c) => c.username === 'gw')).not.toHaveProperty('clientid');
    const topics = (role: string) =>
      config.roles.find((r) => r.rolename === role)!.acls.map((a) => `${a.acltype} ${a.topic}`);
    expect(topics('device-d1')).toEqual([
      'publishClientSend hexedge/v1/req/d1/+',
      'publishClientSend hexedge/v1/infer/d1/m',
      'subscribePattern hexedge/v1/res/d1/#',
      'publishClientReceive hexedge/v1/res/d1/#',
    ]);
    expect(topics('device-d2')).toContain('publishClientSend hexedge/v1/infer/d2/+');
    expect(topics('hexedge-gateway')).toContain('subscribePattern $share/#');
    await expect(devices.add({ id: 'hexedge-gateway-1', password: 'password-3' })).rejects.toMatchObject({
      code: 'INVALID_REQUEST',
    });
  });

  it('serves a request from a client id that is no device as the full-access key, only when configured', async () => {
    const { devices } = await setup();
    const keys = new KeyRing({ store: new MemoryKeyStore() });
    const admin = await keys.create({ name: 'admin', role: 'admin' });
    const brokerVouched = new BrokerAccess({ devices, keys, fullAccessKey: admin.record });
    expect(brokerVouched.principalOf('my-app')).toMatchObject({
      kind: 'admin',
      clientId: 'my-app',
      id: admin.record.id,
      key: admin.record,
    });
    // A device's id stays the device's, and a disabled device is refused, not taken for the admin.
    expect(brokerVouched.principalOf('d1')).toMatchObject({ kind: 'device', models: ['m'] });
    devices.store.put({ ...devices.get('d2')!, disabled: true });
    expect(brokerVouched.principalOf('d2')).toBeUndefined();
    expect(new BrokerAccess({ devices, keys }).principalOf('my-app')).toBeUndefined();
  });

  it('refuses a broker username taken twice (a device named like a gateway user)', async () => {
    const { devices } = await setup();
    const admins = [{ username: 'd1', passwordHash: '$7$1$AAAA$BBBB' }];
    expect(() => mosquittoDynamicSecurity({ devices: devices.store.list(), admins })).toThrow(
      /broker username "d1" is taken twice/,
    );
  });
});
