import { describe, expect, it } from 'vitest';
import { AEDES_LACKS, chooseBroker } from './dev-broker.ts';

const present = () => ({
  binary: '/usr/sbin/mosquitto',
  pluginPath: '/usr/lib/mosquitto_dynamic_security.so',
});
const missing = () => ({ missing: 'mosquitto is not installed (not in /usr/sbin, /usr/bin or the PATH)' });

describe("hexedge dev's broker choice", () => {
  it('runs Mosquitto where it is installed, unless aedes is asked for', () => {
    expect(chooseBroker('auto', present)).toEqual({ kind: 'mosquitto', ...present() });
    expect(chooseBroker('mosquitto', present)).toEqual({ kind: 'mosquitto', ...present() });
    expect(chooseBroker('aedes', present)).toMatchObject({ kind: 'aedes' });
  });

  it('falls back to aedes without Mosquitto, saying why and what the fallback lacks', () => {
    const fallback = chooseBroker('auto', missing);
    expect(fallback.kind).toBe('aedes');
    const line = (fallback as { line: string }).line;
    expect(line).toContain('mosquitto is not installed');
    expect(line).toContain(AEDES_LACKS);
    for (const lack of ['MQTT v5', 'Response Topic', 'shared subscriptions', 'persistence'])
      expect(line).toContain(lack);
  });

  it('refuses --broker mosquitto without Mosquitto, naming what to install', () => {
    expect(() => chooseBroker('mosquitto', missing)).toThrow(
      /--broker mosquitto: mosquitto is not installed .*install the Debian package mosquitto/,
    );
  });
});
