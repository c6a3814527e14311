import fc from 'fast-check';
import { ERROR_CODES, generateNodeKeyPair, type LocationInput } from '@hexedge/protocol';
import { Placement } from '@hexedge/placement';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  InferService,
  routeMqttRequest,
  type MqttPrincipal,
  type MqttRequest,
  type MqttRequestHandlerOptions,
} from '../src/index.ts';
import { fakeNodes, register, type FakeNode } from './fake-nodes.ts';
import {
  assertNoPollution,
  bounded,
  corpusText,
  isErrorCode,
  loadCorpus,
  maybeNasty,
  nastyJson,
  nastyString,
  toJsonText,
  withinMs,
} from '@hexedge/protocol/testing';

/*
 * Property: every MQTT message the ingress hands to the request handler — any topic, payload, v5
 * response topic and correlation data — is either dropped (no safe topic to answer on), or answered
 * on the sender's own response topic with an inference or a documented error; never a throw, never
 * an answer to another client's topic, never longer than a bounded time.
 */

const encoder = new TextEncoder();
let near: FakeNode;
let options: MqttRequestHandlerOptions;
let log: Record<string, unknown>[];
let consoleError: ReturnType<typeof vi.spyOn>;

const principals: Record<string, MqttPrincipal> = {
  'sensor-1': { kind: 'device', clientId: 'sensor-1', id: 'sensor-1', models: ['m'] },
  'app-1': { kind: 'app', clientId: 'app-1', id: 'k1' },
};

beforeAll(async () => {
  near = { keys: await generateNodeKeyPair(), url: 'http://near.test', mode: 'ok' };
});
beforeEach(async () => {
  const placement = new Placement({ heartbeatIntervalMs: 60_000 });
  await register(placement, near, 52.3, 4.8);
  const nodeClient = fakeNodes([near]);
  const service = new InferService({
    placement: {
      candidates: (q) => placement.candidates(q),
      isKnownModel: (m, v) => placement.isKnownModel(m, v),
    },
    nodeClient,
  });
  log = [];
  options = {
    service,
    principalOf: (clientId) => (Object.hasOwn(principals, clientId) ? principals[clientId] : undefined),
    locate: async (clientId): Promise<LocationInput | undefined> =>
      clientId === 'sensor-1' ? { lat: 52.37, lng: 4.9 } : undefined,
    log: (entry) => log.push(entry),
  };
  consoleError = vi.spyOn(console, 'error').mockImplementation(() => {});
});
afterEach(() => consoleError.mockRestore());

const level = fc.oneof(
  fc.constantFrom(
    'sensor-1',
    'app-1',
    'stranger',
    'm',
    '1',
    '+',
    '#',
    '',
    '$share',
    '__proto__',
    'constructor',
    'a'.repeat(129),
  ),
  nastyString,
);
const topic = fc.oneof(
  fc.tuple(level, level).map(([c, r]) => `hexedge/v1/req/${c}/${r}`),
  fc.tuple(level, level).map(([c, m]) => `hexedge/v1/infer/${c}/${m}`),
  fc.array(level, { maxLength: 7 }).map((levels) => ['hexedge', 'v1', ...levels].join('/')),
  fc.string({ maxLength: 60 }),
);
const payloadValue = fc.oneof(
  fc.record(
    {
      model: maybeNasty(fc.constant('m')),
      id: maybeNasty(fc.constantFrom('1', 'r-2')),
      location: maybeNasty(fc.constant({ lat: 52.37, lng: 4.9 })),
      inputs: maybeNasty(fc.constant([{ name: 'x', datatype: 'FP32', shape: [1], data: [1.5] }])),
    },
    { requiredKeys: [] },
  ),
  nastyJson,
);
const payload = fc.oneof(
  payloadValue.map((v) => encoder.encode(toJsonText(v))),
  fc.uint8Array({ maxLength: 64 }),
  // Invalid UTF-8 around valid JSON.
  payloadValue.map((v) => Uint8Array.from([...encoder.encode(toJsonText(v)), 0xff, 0xfe])),
);
const message: fc.Arbitrary<MqttRequest> = fc.record(
  {
    topic,
    payload,
    responseTopic: fc.oneof(
      level.map((c) => `hexedge/v1/res/${c}/x`),
      fc.tuple(level, level).map(([c, s]) => `hexedge/v1/res/${c}/${s}`),
      fc.string({ maxLength: 40 }),
    ),
    correlationData: fc.oneof(
      fc.uint8Array({ maxLength: 140 }),
      fc.string({ maxLength: 130 }).map((s) => encoder.encode(s)),
    ),
  },
  { requiredKeys: ['topic', 'payload'] },
);

async function check(request: MqttRequest) {
  const routed = routeMqttRequest(request, options);
  if (!routed) return;
  const answer = await withinMs(5_000, 'mqtt answer', routed.answer);
  // The answer goes back only to a topic of the client the request came from.
  expect(answer.topic.startsWith(`hexedge/v1/res/${routed.clientId}/`)).toBe(true);
  const body = JSON.parse(new TextDecoder().decode(answer.payload)) as {
    error?: { code: string; message: string };
  };
  if (answer.ok) {
    expect(answer.userProperties['hexedge-status']).toBe('ok');
  } else {
    expect(isErrorCode(body.error?.code), JSON.stringify(body)).toBe(true);
    expect(body.error!.code).not.toBe('INTERNAL');
    expect(answer.userProperties['hexedge-http-status']).toBe(
      String(ERROR_CODES[body.error!.code as keyof typeof ERROR_CODES].httpStatus),
    );
  }
  expect(log.filter((l) => l.level === 'error')).toEqual([]);
  expect(consoleError).not.toHaveBeenCalled();
}

describe('fuzz: MQTT request handler', () => {
  it('drops or answers every message on the sender’s own topic with a documented error', async () => {
    await fc.assert(
      fc.asyncProperty(message, async (m) => {
        consoleError.mockClear();
        await check(m);
        assertNoPollution();
      }),
      bounded(300, 2_500),
    );
  });

  it('replays the corpus of nastiest MQTT messages', async () => {
    for (const c of loadCorpus(new URL('./corpus/mqtt-messages.json', import.meta.url))) {
      const request: MqttRequest = {
        topic: c.topic as string,
        payload:
          c.payloadHex !== undefined
            ? Uint8Array.from((c.payloadHex as string).match(/../g) ?? [], (h) => parseInt(h, 16))
            : encoder.encode(corpusText(c)),
        ...(c.responseTopic !== undefined ? { responseTopic: c.responseTopic as string } : {}),
        ...(c.correlationHex !== undefined
          ? {
              correlationData: Uint8Array.from((c.correlationHex as string).match(/../g) ?? [], (h) =>
                parseInt(h, 16),
              ),
            }
          : {}),
      };
      const routed = routeMqttRequest(request, options);
      if (c.dropped) {
        expect(routed, c.name).toBeUndefined();
        continue;
      }
      await check(request);
      if (c.code !== undefined) {
        const answer = await routed!.answer();
        expect(
          (JSON.parse(new TextDecoder().decode(answer.payload)) as { error?: { code: string } }).error?.code,
          c.name,
        ).toBe(c.code);
      }
      assertNoPollution();
    }
  });
});
