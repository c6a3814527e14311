import pb from '@chirpstack/chirpstack-api/integration/integration_pb.js';
import { afterAll, describe, expect, it } from 'vitest';
import { DeviceRegistry, type ProfileInput } from '../src/index.ts';
import { codecSource } from './codecs/device-repository.ts';
import { APP_ID, COMFORT_LABELS, encode, fromB64, newBridge, upTopic, uplinkJson } from './helpers.ts';

/*
 * The TTN device-repository codec API through FirmwareBridge.handleMessage: the climate sensor codec
 * (firmware-bridge/testing/codecs/climate-sensor.js) decodes, normalizes and encodes; its
 * encodeDownlink's fPort reaches the ChirpStack command; its console lines and warnings reach the
 * device's log; the profile's input maps fields of the normalized payload.
 */
const CLIMATE = '0004a30b001c0601';
const HISTORY = '0004a30b001c0602';
const BAD_PORT = '0004a30b001c0603';
const CHATTY = '0004a30b001c0604';
const LARGE = '0004a30b001c0605';
const FIXED = { fixed: { lat: 52.37, lng: 4.89 } };

const climate: ProfileInput = {
  id: 'climate-ttn',
  codec: { kind: 'js', source: codecSource('climate-sensor.js') },
  model: 'comfort-index',
  input: {
    kind: 'tensor',
    payload: 'normalized',
    name: 'readings',
    fields: [{ path: 'air.temperature' }, { path: 'air.relativeHumidity' }, { path: 'air.co2' }],
  },
  output: { labels: COMFORT_LABELS },
  // The profile says port 20; the codec's encodeDownlink says 10 for an answer, and wins.
  downlink: { fPort: 20, encoding: { kind: 'codec' }, fallback: { kind: 'class-index' } },
  location: FIXED,
};
const history: ProfileInput = {
  ...climate,
  id: 'climate-history',
  input: {
    kind: 'reading-window',
    payload: 'normalized',
    readings: 3,
    readingIntervalS: 600,
    fields: { temperatureC: 'air.temperature', humidityPct: 'air.relativeHumidity' },
  },
};
const badPort = (fPort: unknown): ProfileInput => ({
  ...climate,
  id: 'bad-port',
  codec: {
    kind: 'js',
    source: `function decodeUplink(i) { return { data: { t: 21, h: 40, c: 500 } }; }\nfunction encodeDownlink(i) { return { bytes: [i.data.classIndex], fPort: ${JSON.stringify(fPort)} }; }`,
  },
  input: { kind: 'tensor', name: 'readings', fields: [{ path: 't' }, { path: 'h' }, { path: 'c' }] },
});
const chatty: ProfileInput = {
  ...badPort(7),
  id: 'chatty',
  codec: {
    kind: 'js',
    source: `function decodeUplink(i) {
      for (var n = 0; n < 1000; n++) console.log('line ' + n);
      console.error(new Array(100001).join('x'));
      return { data: { t: 21, h: 40, c: 500 } };
    }`,
  },
  downlink: { fPort: 20, encoding: { kind: 'class-index' } },
};

function registryWith(profile: ProfileInput, devEui: string): DeviceRegistry {
  const registry = new DeviceRegistry();
  registry.putProfile(profile);
  registry.putDevice({ devEui, fleet: 'acme', profile: profile.id });
  registries.push(registry);
  return registry;
}
const registries: DeviceRegistry[] = [];
afterAll(() => Promise.all(registries.map((r) => r.close())));

/** fPort 1: 23 °C, 48.5 %, 650 ppm, battery 90 %, motion. */
const MEASUREMENT = Uint8Array.of(0x08, 0xfc, 0x61, 0x02, 0x8a, 0x5a, 0x01);

describe('FirmwareBridge with a TTN device-repository codec', () => {
  it("maps the normalized payload, and sends the downlink on the port the codec's encodeDownlink chose", async () => {
    const t = newBridge({ registry: registryWith(climate, CLIMATE) });
    const outcome = await t.bridge.handleMessage(
      upTopic(CLIMATE),
      encode(uplinkJson({ devEui: CLIMATE, fPort: 1, data: MEASUREMENT })),
    );
    expect(outcome.status).toBe('result');
    expect(t.requests[0]!.inputs).toEqual([
      { name: 'readings', datatype: 'FP32', shape: [1, 3], data: [23, 48.5, 650] },
    ]);

    const command = t.json(t.on('application/')[0]!);
    expect(command).toMatchObject({ devEui: CLIMATE, fPort: 10 });
    // The stand-in model answers too_warm (class 1) at 0.7: the codec's answer frame [0xa0, 1, 70].
    expect(fromB64(command.data as string)).toEqual(Uint8Array.of(0xa0, 1, 70));
    const result = t.json(t.on('hexedge/v1/results/')[0]!);
    expect(result).toMatchObject({
      decoded: { temperatureC: 23, humidityPct: 48.5, co2Ppm: 650, batteryPct: 90, motion: true },
      normalized: [{ air: { temperature: 23, relativeHumidity: 48.5, co2: 650 } }],
      decodeWarnings: [],
      downlink: {
        status: 'sent',
        fPort: 10,
        encoding: 'codec',
        dataHex: 'a00146',
        decoded: { classIndex: 1, confidence: 0.7 },
      },
    });
  });

  it('puts the codec’s fPort in a protobuf DownlinkCommand too', async () => {
    const t = newBridge({ registry: registryWith(climate, CLIMATE), marshaling: 'protobuf' });
    const up = new pb.UplinkEvent();
    const info = new pb.DeviceInfo();
    info.setApplicationId(APP_ID);
    info.setDevEui(CLIMATE);
    up.setDeduplicationId('pb-ttn-1');
    up.setDeviceInfo(info);
    up.setFCnt(4);
    up.setFPort(1);
    up.setDr(5);
    up.setData(MEASUREMENT);
    up.setRegionConfigId('eu868');
    expect((await t.bridge.handleMessage(upTopic(CLIMATE), up.serializeBinary())).status).toBe('result');
    const command = pb.DownlinkCommand.deserializeBinary(t.on('application/')[0]!.payload as Uint8Array);
    expect(command.getFPort()).toBe(10);
    expect(command.getData_asU8()).toEqual(Uint8Array.of(0xa0, 1, 70));
  });

  it.each([
    [0, 'fPort 0'],
    [224, 'fPort 224'],
    ['3', 'fPort "3"'],
    [1.5, 'fPort 1.5'],
  ])(
    'refuses an encodeDownlink fPort of %j with a clear reason and takes the fallback on the profile’s port',
    async (fPort, quoted) => {
      const t = newBridge({ registry: registryWith(badPort(fPort), BAD_PORT) });
      await t.bridge.handleMessage(
        upTopic(BAD_PORT),
        encode(uplinkJson({ devEui: BAD_PORT, data: Uint8Array.of(1) })),
      );
      const reason = `codec encoder: JS codec encodeDownlink returned ${quoted}: LoRaWAN application ports are integers 1–223`;
      expect(t.json(t.on('application/')[0]!)).toMatchObject({ fPort: 20, data: 'AQ==' });
      expect(t.json(t.on('hexedge/v1/results/')[0]!).downlink).toMatchObject({
        status: 'sent',
        fPort: 20,
        encoding: 'class-index',
        fallbackReason: reason,
      });
      expect(t.logs).toContain(`warn ${BAD_PORT}: downlink fell back to class-index: ${reason}`);
    },
  );

  it('fills a reading window from the measurements of one normalized payload, each at its own time, and logs console lines', async () => {
    const t = newBridge({ registry: registryWith(history, HISTORY) });
    const bytes = Uint8Array.of(10, 3, 0x07, 0xd0, 80, 0x08, 0x34, 82, 0x08, 0x98, 84);
    await t.bridge.handleMessage(
      upTopic(HISTORY),
      encode(uplinkJson({ devEui: HISTORY, fPort: 2, data: bytes })),
    );
    expect(t.requests[0]!.input).toEqual({
      readingIntervalS: 600,
      readings: [
        { temperatureC: 20, humidityPct: 40 },
        { temperatureC: 21, humidityPct: 41 },
        { temperatureC: 22, humidityPct: 42 },
      ],
    });
    const line = 'history of 3 readings, 10 min apart';
    expect(t.logs).toContain(`info ${HISTORY}: codec console.log: ${line}`);
    expect(t.json(t.on('hexedge/v1/results/')[0]!).codecLog).toEqual([{ level: 'info', message: line }]);
  });

  it('a measurement without a mapped field fails the uplink, naming it, and keeps nothing of it', async () => {
    const t = newBridge({ registry: registryWith(climate, CLIMATE) });
    // fPort 2's normalized measurements carry no air.co2.
    const outcome = await t.bridge.handleMessage(
      upTopic(CLIMATE),
      encode(uplinkJson({ devEui: CLIMATE, fPort: 2, data: Uint8Array.of(10, 1, 0x07, 0xd0, 80) })),
    );
    expect(outcome).toMatchObject({
      status: 'error',
      error: {
        code: 'INPUT_MAPPING_FAILED',
        message: "profile 'climate-ttn' input: normalized measurement 0 has no field 'air.co2'",
      },
    });
    expect(t.requests).toHaveLength(0);
  });

  it('a profile that maps the normalized payload of a codec without normalizeUplink gets a clear error', async () => {
    const registry = registryWith({ ...badPort(7), id: 'no-normalizer', input: climate.input }, BAD_PORT);
    const t = newBridge({ registry });
    const outcome = await t.bridge.handleMessage(
      upTopic(BAD_PORT),
      encode(uplinkJson({ devEui: BAD_PORT, data: Uint8Array.of(1) })),
    );
    expect(outcome).toMatchObject({
      error: {
        code: 'INPUT_MAPPING_FAILED',
        message: expect.stringContaining(
          "reads the normalized payload, but the codec gave none (a JS codec's normalizeUplink makes it)",
        ),
      },
    });
  });

  it("turns the codec's errors into the uplink's error with the codec's message, and logs its warnings", async () => {
    const t = newBridge({ registry: registryWith(climate, CLIMATE) });
    const bad = await t.bridge.handleMessage(
      upTopic(CLIMATE),
      encode(uplinkJson({ devEui: CLIMATE, fCnt: 1, fPort: 1, data: Uint8Array.of(0x08, 0xfc) })),
    );
    expect(bad).toMatchObject({
      status: 'error',
      error: { code: 'DECODE_FAILED', message: 'JS codec: fPort 1 needs 7 bytes, got 2', devEui: CLIMATE },
    });
    expect(t.json(t.on('hexedge/v1/errors/')[0]!)).toMatchObject({
      code: 'DECODE_FAILED',
      message: 'JS codec: fPort 1 needs 7 bytes, got 2',
    });
    expect(t.requests).toHaveLength(0);

    const low = await t.bridge.handleMessage(
      upTopic(CLIMATE),
      encode(
        uplinkJson({
          devEui: CLIMATE,
          fCnt: 2,
          fPort: 1,
          data: Uint8Array.of(0xff, 0x06, 0x50, 0x01, 0x90, 0x05, 0x00),
        }),
      ),
    );
    expect(low).toMatchObject({ status: 'result', result: { decodeWarnings: ['battery low: 5 %'] } });
    expect(t.logs).toContain(`warn ${CLIMATE}: codec warning: battery low: 5 %`);
  });

  it('bounds what a codec prints per call, in count and size', async () => {
    const t = newBridge({ registry: registryWith(chatty, CHATTY) });
    await t.bridge.handleMessage(
      upTopic(CHATTY),
      encode(uplinkJson({ devEui: CHATTY, data: Uint8Array.of(1) })),
    );
    const codecLog = t.json(t.on('hexedge/v1/results/')[0]!).codecLog as { level: string; message: string }[];
    expect(codecLog).toHaveLength(17);
    expect(codecLog[0]).toEqual({ level: 'info', message: 'line 0' });
    expect(codecLog[15]).toEqual({ level: 'info', message: 'line 15' });
    // The 100 000-character error line came after the 16th: counted with the rest, not kept.
    expect(codecLog[16]).toEqual({ level: 'warn', message: '985 more console line(s) dropped: 16 per call' });
    expect(t.logs.filter((l) => l.includes('codec console.'))).toHaveLength(17);
  });

  it('cuts a long console line', async () => {
    const source =
      'function decodeUplink(i) { console.warn(new Array(100001).join("y")); return { data: { t: 1, h: 1, c: 1 } }; }';
    const t = newBridge({
      registry: registryWith({ ...chatty, id: 'long-line', codec: { kind: 'js', source } }, CHATTY),
    });
    await t.bridge.handleMessage(
      upTopic(CHATTY),
      encode(uplinkJson({ devEui: CHATTY, data: Uint8Array.of(1) })),
    );
    const [line] = t.json(t.on('hexedge/v1/results/')[0]!).codecLog as { level: string; message: string }[];
    expect(line!.level).toBe('warn');
    expect(line!.message).toBe(`${'y'.repeat(512)}… (100000 characters)`);
  });

  it('runs the > 200 KiB codec from a profile under the default 100 ms budget, uplink after uplink', async () => {
    const source = codecSource('multisense.js');
    const large: ProfileInput = {
      ...climate,
      id: 'multisense',
      codec: { kind: 'js', source },
      input: {
        kind: 'tensor',
        payload: 'normalized',
        name: 'readings',
        fields: [{ path: 'air.temperature' }, { path: 'air.pressure' }, { path: 'air.relativeHumidity' }],
      },
      downlink: { fPort: 20, encoding: { kind: 'class-index' } },
    };
    const t = newBridge({ registry: registryWith(large, LARGE) });
    for (let fCnt = 1; fCnt <= 20; fCnt++) {
      const outcome = await t.bridge.handleMessage(
        upTopic(LARGE),
        encode(
          uplinkJson({
            devEui: LARGE,
            fCnt,
            fPort: 5,
            data: Uint8Array.of(0x08, 0x00, 0x39, 0x09, 100, 0x00, 0x00),
          }),
        ),
      );
      expect(outcome.status, JSON.stringify(outcome)).toBe('result');
    }
    expect(t.requests.map((r) => r.inputs![0]!.data)).toEqual(Array(20).fill([25, 1013, 50]));
  });
});
