import { describe, expect, it } from 'vitest';
import { checkNodeUrl, isForbiddenNodeAddress } from './node-urls.ts';

const refused = (url: string, resolve?: (h: string) => Promise<string[]>) =>
  expect(checkNodeUrl(url, { allowPrivate: false, ...(resolve ? { resolve } : {}) })).rejects.toMatchObject({
    code: 'FORBIDDEN',
  });

describe('node URL policy', () => {
  it.each([
    'http://127.0.0.1:8080/admin?x=',
    'http://127.1.2.3',
    'http://2130706433/', // 127.0.0.1 in decimal (the URL parser normalises it)
    'http://0x7f.1/',
    'http://10.1.2.3',
    'http://172.20.0.1',
    'http://192.168.1.1',
    'http://169.254.169.254/latest/meta-data/', // cloud metadata
    'http://100.64.0.1',
    'http://0.0.0.0:80',
    'http://[::1]:8080',
    'http://[::]:8080',
    'http://[fe80::1]',
    'http://[fd00:ec2::254]', // AWS metadata over IPv6 (unique-local)
    'http://[::ffff:127.0.0.1]',
    'http://[::ffff:a9fe:a9fe]', // 169.254.169.254, IPv4-mapped
    'http://[64:ff9b::a00:1]', // NAT64 of 10.0.0.1
    'http://localhost:8080',
    'http://api.localhost',
    'http://metadata.google.internal/computeMetadata/v1/',
    'http://printer.local',
  ])('refuses %s', (url) => refused(url));

  it('refuses a name that resolves to a private address, and one that does not resolve', async () => {
    await refused('http://sneaky.example:8080', async () => ['93.184.216.34', '10.0.0.7']);
    await expect(
      checkNodeUrl('http://gone.example', {
        allowPrivate: false,
        resolve: () => Promise.reject(new Error('ENOTFOUND')),
      }),
    ).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
  });

  it('accepts public addresses and names that resolve to them, and private ones when allowed', async () => {
    await checkNodeUrl('http://93.184.216.34:8080', { allowPrivate: false });
    await checkNodeUrl('https://[2606:4700:4700::1111]/', { allowPrivate: false });
    await checkNodeUrl('http://node.example:8080', {
      allowPrivate: false,
      resolve: async () => ['93.184.216.34'],
    });
    await checkNodeUrl('http://127.0.0.1:8080', { allowPrivate: true });
    expect(isForbiddenNodeAddress('8.8.8.8')).toBe(false);
  });

  it('refuses credentials and other schemes whatever the policy', async () => {
    await expect(checkNodeUrl('http://user:pw@93.184.216.34', { allowPrivate: true })).rejects.toMatchObject({
      code: 'INVALID_REQUEST',
    });
    await expect(checkNodeUrl('file:///etc/passwd', { allowPrivate: true })).rejects.toMatchObject({
      code: 'INVALID_REQUEST',
    });
  });
});
