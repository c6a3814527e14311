import { describe, expect, it } from 'vitest';
import { KeyRing } from '../keys/key-ring.ts';
import { MemoryKeyStore } from '../keys/key-store.ts';
import { BrokerAccess } from './access.ts';
import { DeviceCredentials, hashDevicePassword, verifyDevicePassword } from './device-credentials.ts';
import { mosquittoAclFile, mosquittoPasswordFile } from './mosquitto-files.ts';

const setup = async () => {
  const devices = new DeviceCredentials();
  await devices.add({ id: 'd1', password: 'password-1', models: ['m'], iterations: 1_000 });
  await devices.add({ id: 'd2', password: 'password-2', iterations: 1_000 });
  const keys = new KeyRing({ store: new MemoryKeyStore() });
  const admin = await keys.create({ name: 'admin', role: 'admin' });
  const app = await keys.create({ name: 'app' });
  return { devices, access: new BrokerAccess({ devices, keys }), admin: admin.key, app: app.key };
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

  it('authenticates devices by id = client id = username, and API keys with any username', async () => {
    const { access, admin, app } = await setup();
    expect((await access.authenticate({ clientId: 'd1', username: 'd1', password: 'password-1' }))?.kind).toBe('device');
    expect(await access.authenticate({ clientId: 'd1', username: 'd1', password: 'password-2' })).toBeUndefined();
    expect(await access.authenticate({ clientId: 'd2', username: 'd1', password: 'password-1' })).toBeUndefined();
    expect((await access.authenticate({ clientId: 'cli', username: 'x', password: admin }))?.kind).toBe('admin');
    expect((await access.authenticate({ clientId: 'my-app', password: app }))?.kind).toBe('app');
    expect(await access.authenticate({ clientId: 'd2', password: app })).toBeUndefined(); // a device's client id
    expect(await access.authenticate({ clientId: 'a/b', password: admin })).toBeUndefined();
  });

  it('confines non-admins to their own topics and models', async () => {
    const { access } = await setup();
    const d1 = (await access.authenticate({ clientId: 'd1', username: 'd1', password: 'password-1' }))!;
    expect(access.canPublish(d1, 'hexedge/v1/req/d1/1')).toBe(true);
    expect(access.canPublish(d1, 'hexedge/v1/req/d2/1')).toBe(false);
    expect(access.canPublish(d1, 'hexedge/v1/infer/m')).toBe(true);
    expect(access.canPublish(d1, 'hexedge/v1/infer/other')).toBe(false);
    expect(access.canPublish(d1, 'elsewhere')).toBe(false);
    expect(access.canSubscribe(d1, 'hexedge/v1/res/d1/#')).toBe(true);
    expect(access.canSubscribe(d1, 'hexedge/v1/res/#')).toBe(false);
    expect(access.canSubscribe(d1, 'hexedge/v1/res/d10/#')).toBe(false);
    expect(access.principalOf('d2')?.kind).toBe('device');
    expect(access.principalOf('nobody')).toBeUndefined();
  });

  it('writes Mosquitto files from the stored hashes', async () => {
    const { devices } = await setup();
    const admins = [{ username: 'gw', passwordHash: '$7$1$AAAA$BBBB' }];
    expect(mosquittoPasswordFile({ devices: devices.store.list(), admins }).split('\n')[1]).toBe(`d1:${devices.get('d1')!.passwordHash}`);
    const acl = mosquittoAclFile({ devices: devices.store.list(), admins });
    expect(acl).toContain('pattern write hexedge/v1/req/%u/+\npattern read hexedge/v1/res/%u/#');
    expect(acl).toContain('user d1\ntopic write hexedge/v1/infer/m\n');
    expect(acl).toContain('user d2\ntopic write hexedge/v1/infer/+\n');
    expect(acl).toContain('user gw\ntopic readwrite #');
  });
});
