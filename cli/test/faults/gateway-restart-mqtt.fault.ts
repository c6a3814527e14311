import { DEFAULT_MAX_IN_FLIGHT } from '@hexedge/gateway/node';
import path from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  NODE_PLACES,
  scratch,
  startGatewayProcess,
  startNodeProcess,
  type GatewayOptions,
} from './fabric.ts';
import { deviceClient, GATEWAY_MQTT_PASSWORD, mosquittoBinary, prepareMosquitto } from './mosquitto.ts';
import { requestStream } from './mqtt-stream.ts';
import { freePort, sleep, waitUntil, type Proc } from '@hexedge/test-kit';
import { recordScenario } from './report.ts';

/**
 * `hexedge gateway --mqtt` is SIGKILLed in the middle of a device's MQTT v5 QoS 1 request stream on a
 * real Mosquitto, then started again with the same data dir and client id. Promised: the broker kept
 * the ingress's persistent session, so every request the device published is answered, and exactly
 * once from the device's point of view (one answer per correlation id). While the gateway is down the
 * device publishes a backlog of BACKLOG more; the restarted gateway is ready within READY_BOUND_MS (it
 * does not wait for a SUBACK queued behind the backlog) and drains it within DRAIN_BOUND_MS.
 */
const REQUESTS = 120;
const PACE_MS = 20;
/** Requests the device publishes while the gateway is down: the backlog the restarted gateway drains. */
const BACKLOG = 600;
/** The bounds promised for a restart into that backlog: ready (its ready line), then every request answered. */
const READY_BOUND_MS = 15_000;
const DRAIN_BOUND_MS = 30_000;
const procs: Proc[] = [];
let fs: Awaited<ReturnType<typeof scratch>>;
let broker: Proc;
let gatewayOptions: GatewayOptions;
let device: MqttClient;

beforeAll(async () => {
  fs = await scratch('gateway-restart');
  const gatewayDataDir = path.join(fs.dir, 'gateway');
  const mq = await prepareMosquitto({ dir: fs.dir, gatewayDataDir, devices: ['dev-1'] });
  broker = await mq.start();
  gatewayOptions = {
    dataDir: gatewayDataDir,
    modelsDir: fs.modelsDir,
    port: await freePort(),
    mqtt: { url: mq.url },
    mqttPassword: GATEWAY_MQTT_PASSWORD,
  };
  const gateway = await startGatewayProcess(gatewayOptions);
  procs.push(gateway);
  for (const [i, place] of NODE_PLACES.slice(0, 2).entries())
    procs.push(
      await startNodeProcess({
        dir: fs.dir,
        name: `n${i}`,
        gatewayUrl: gateway.url,
        modelsDir: fs.modelsDir,
        place,
      }),
    );
  device = await deviceClient(mq.url, 'dev-1', { clean: false, properties: { sessionExpiryInterval: 600 } });
});

afterAll(async () => {
  device?.end(true);
  for (const p of procs.reverse()) await p.stop();
  await broker?.stop();
  await fs?.cleanup();
});

describe.skipIf(!mosquittoBinary)(
  'fault: the gateway SIGKILLed and restarted during an MQTT QoS 1 stream',
  () => {
    it('answers every published request exactly once across the restart', async () => {
      const stream = requestStream(device, 'dev-1');
      await stream.subscribe();
      const answeredCount = () => [...stream.requests.values()].filter((r) => r.answers.length > 0).length;
      const sending = (async () => {
        for (let i = 0; i < REQUESTS; i++) {
          void stream.send(`req-${i}`);
          await sleep(PACE_MS);
        }
      })();
      await waitUntil('30 answers before the kill', () => answeredCount() >= 30, { timeoutMs: 10_000 });
      const gateway = procs[0]!;
      const killAtMs = Date.now();
      await gateway.kill();
      const answeredAtKill = answeredCount();
      await sending;
      // The backlog: published (and accepted by Mosquitto into the gateway's session) while it is down.
      await Promise.all(Array.from({ length: BACKLOG }, (_, i) => stream.send(`backlog-${i}`)));
      const restartAtMs = Date.now();
      const restarted = await startGatewayProcess(gatewayOptions).catch((err: Error) => {
        // Seen once in five runs on a loaded 2-core machine: the restarted gateway printed nothing for 30 s.
        throw new Error(`${err.message}\nmosquitto, last lines:\n${broker.lines.slice(-15).join('\n')}`);
      });
      procs[0] = restarted;
      const restartedAtMs = Date.now();
      await waitUntil(
        'every accepted request to be answered',
        () =>
          [...stream.requests.values()].every((r) => r.acceptedAtMs === undefined || r.answers.length > 0),
        { timeoutMs: DRAIN_BOUND_MS + 10_000, intervalMs: 20 },
      ).catch(() => {});
      const drainedAtMs = Math.max(...[...stream.requests.values()].map((r) => r.answers[0]?.atMs ?? 0));
      // Room for a late duplicate to show up before counting.
      await stream.marker();

      const s = stream.summary();
      const answers = [...stream.requests.values()].flatMap((r) => r.answers);
      const firstAfter = Math.min(...answers.filter((a) => a.atMs > killAtMs).map((a) => a.atMs));
      const firstOkAfter = Math.min(...answers.filter((a) => a.ok && a.atMs > killAtMs).map((a) => a.atMs));
      recordScenario({
        scenario: 'gateway SIGKILL + restart during MQTT QoS 1 stream',
        sent: s.sent,
        answered: s.answered,
        failedClearly: s.failedClearly,
        lost: s.lost,
        // Redeliveries the client dropped by correlation id (see the assertion below).
        duplicates: s.duplicates,
        recoveryMs: Number.isFinite(firstAfter) ? firstAfter - killAtMs : null,
        recovery: 'kill → first answer from the restarted gateway (includes its start-up)',
        notes: [
          `accepted = PUBACK from Mosquitto: ${s.accepted} of ${s.sent}`,
          `${answeredAtKill} answered before the kill; ${BACKLOG} more published while it was down (the backlog)`,
          `restart into the backlog: ready line ${restartedAtMs - restartAtMs} ms after the start (bound ${READY_BOUND_MS}), every request answered ${drainedAtMs - restartAtMs} ms after it (bound ${DRAIN_BOUND_MS})`,
          `first successful answer after the restart: ${firstOkAfter - killAtMs} ms after the kill (nodes re-register with backoff 0.5 s, 1 s, 2 s …)`,
          ...(s.errorCodes.length ? [`errors: ${s.errorCodes.join(' | ')}`] : []),
        ],
      });

      expect(s.accepted).toBe(REQUESTS + BACKLOG);
      expect(restartedAtMs - restartAtMs).toBeLessThan(READY_BOUND_MS);
      expect(drainedAtMs - restartAtMs).toBeLessThan(DRAIN_BOUND_MS);
      expect(s.lost).toBe(0);
      // QoS 1 is at-least-once: a request whose answer went out just before the kill, but whose PUBACK
      // had not, is redelivered to the restarted gateway and answered again. A v5 requester matches
      // answers by correlation data and keeps the first, as this client does; the repeats are bounded
      // by what was in flight at the kill (the ingress holds at most DEFAULT_MAX_IN_FLIGHT unacked).
      expect(s.duplicates).toBeLessThanOrEqual(DEFAULT_MAX_IN_FLIGHT);
      expect(stream.strays).toEqual([]);
      // Exactly one answer each from the client's point of view (unique correlation ids): a result, or
      // a documented error.
      expect(s.answered + s.failedClearly).toBe(REQUESTS + BACKLOG);
      expect(s.answered).toBeGreaterThan(answeredAtKill);
    });
  },
);
