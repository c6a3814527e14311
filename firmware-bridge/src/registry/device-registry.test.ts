import { describe, expect, it, vi } from 'vitest';
import type { CodecRunnerFactory } from '../codecs/codec-runner.ts';
import { DeviceRegistry } from './device-registry.ts';

const profile = {
  id: 'p1',
  codec: { kind: 'lpp' },
  model: 'comfort-index',
  input: { kind: 'tensor', name: 'readings', fields: [{ path: 'temperature_1' }] },
  downlink: { fPort: 10, encoding: { kind: 'class-index' } },
};

describe('DeviceRegistry validation', () => {
  const cases: [string, unknown, RegExp][] = [
    ['an unknown codec', { ...profile, codec: { kind: 'cbor' } }, /profile: codec.kind: /],
    [
      'a schema field with a bad type',
      { ...profile, codec: { kind: 'binary', fields: [{ name: 'a', offset: 0, type: 'int24' }] } },
      /profile: codec.fields.0.type: /,
    ],
    [
      'fPort 0 for a downlink',
      { ...profile, downlink: { fPort: 0, encoding: { kind: 'class-index' } } },
      /profile: downlink.fPort: /,
    ],
    [
      'an unknown encoding',
      { ...profile, downlink: { fPort: 10, encoding: { kind: 'morse' } } },
      /profile: downlink.encoding.kind: /,
    ],
    [
      'a bad field path',
      { ...profile, input: { kind: 'tensor', name: 'r', fields: [{ path: 'a..b' }] } },
      /profile: input.fields.0.path: must be a field name or dotted path/,
    ],
    [
      'a bad fixed location',
      { ...profile, location: { fixed: { lat: 91, lng: 0 } } },
      /profile: location.fixed.lat: /,
    ],
    [
      'normalization with max below min',
      {
        ...profile,
        input: { kind: 'tensor', name: 'r', fields: [{ path: 'a', normalize: { min: 5, max: 1 } }] },
      },
      /profile: input.fields.0.normalize/,
    ],
    ['an unknown key', { ...profile, modle: 'typo' }, /profile: \(root\): /],
  ];
  for (const [name, input, message] of cases) {
    it(`rejects ${name}, naming the field`, () => {
      expect(() => new DeviceRegistry().putProfile(input)).toThrow(message);
    });
  }

  it('refuses a device whose profile does not exist, and a profile still in use', () => {
    const registry = new DeviceRegistry();
    expect(() => registry.putDevice({ devEui: '0004A30B001C0530', fleet: 'acme', profile: 'p1' })).toThrow(
      "device: profile: no profile 'p1'",
    );
    registry.putProfile(profile);
    expect(registry.putDevice({ devEui: '0004A30B001C0530', fleet: 'acme', profile: 'p1' }).devEui).toBe(
      '0004a30b001c0530',
    );
    expect(() => registry.deleteProfile('p1')).toThrow(
      "profile 'p1' is used by 1 device(s): 0004a30b001c0530",
    );
    expect(registry.resolve('0004A30B001C0530')?.profile.location).toEqual({
      useGps: true,
      useGateways: true,
    });
  });
});

describe('DeviceRegistry: JS codecs built once per profile', () => {
  /** A runner that counts what the registry asks of it (unit test of the registry's bookkeeping). */
  function countingRunner() {
    const made: { source: string; closed: boolean; warmed: boolean }[] = [];
    const runner: CodecRunnerFactory = ({ source }) => {
      const entry = { source, closed: false, warmed: false };
      made.push(entry);
      return {
        call: async () => ({ ok: true, json: '{"style":"ttn","result":{"data":{}}}', logs: [] }),
        warm: async () => void (entry.warmed = true),
        close: async () => void (entry.closed = true),
      };
    };
    return { made, runner };
  }
  const js = (source: string) => ({ ...profile, codec: { kind: 'js', source } });

  it('keeps the codec (and its evaluated context) when only other fields change, and replaces it when the codec changes', async () => {
    const { made, runner } = countingRunner();
    const registry = new DeviceRegistry({ codecRunner: runner });
    registry.putProfile(js('function decodeUplink() {}'));
    registry.putDevice({ devEui: '0004a30b001c0530', fleet: 'acme', profile: 'p1' });
    const first = registry.resolve('0004a30b001c0530')!.codec;
    registry.putProfile({ ...js('function decodeUplink() {}'), model: 'other-model' });
    expect(registry.resolve('0004a30b001c0530')!.codec).toBe(first);
    expect(made).toHaveLength(1);

    registry.putProfile(js('function decodeUplink() { return 2; }'));
    expect(registry.resolve('0004a30b001c0530')!.codec).not.toBe(first);
    expect(made.map((m) => m.closed)).toEqual([true, false]);

    await registry.close();
    expect(made.map((m) => m.closed)).toEqual([true, true]);
  });

  it('builds a `js` downlink encoding once, and `codec` encodings reuse the profile codec', async () => {
    const { made, runner } = countingRunner();
    const registry = new DeviceRegistry({ codecRunner: runner });
    registry.putProfile({
      ...js('function decodeUplink() {}'),
      downlink: {
        fPort: 10,
        encoding: { kind: 'js', source: 'function encodeDownlink() {}' },
        fallback: { kind: 'codec' },
      },
    });
    registry.putDevice({ devEui: '0004a30b001c0530', fleet: 'acme', profile: 'p1' });
    const resolved = registry.resolve('0004a30b001c0530')!;
    expect(made.map((m) => m.source)).toEqual(['function decodeUplink() {}', 'function encodeDownlink() {}']);
    expect(resolved.encoders.fallback).toBe(resolved.codec);
    registry.deleteDevice('0004a30b001c0530');
    registry.deleteProfile('p1');
    await vi.waitFor(() => expect(made.every((m) => m.closed)).toBe(true));
  });

  it('with warmCodecs, starts each JS codec when its profile is stored, not at its first uplink', () => {
    const cold = countingRunner();
    new DeviceRegistry({ codecRunner: cold.runner }).putProfile(js('function decodeUplink() {}'));
    expect(cold.made.map((m) => m.warmed)).toEqual([false]);
    const warm = countingRunner();
    new DeviceRegistry({ codecRunner: warm.runner, warmCodecs: true }).putProfile(
      js('function decodeUplink() {}'),
    );
    expect(warm.made.map((m) => m.warmed)).toEqual([true]);
  });
});
