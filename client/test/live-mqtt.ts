import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { verifyReceipt, type InferRequest } from '../src/index.ts';
import { MqttInferClient } from '../src/mqtt.ts';
import { DEVICE_ID, DEVICE_PASSWORD, HERE, type Fabric } from './fabric.ts';

/** The MQTT v5 helper against Mosquitto and the gateway's v5 ingress (client.live.test.ts's fabric). */
export function mqttSuite(getFabric: () => Fabric) {
  const comfort = (extra: Partial<InferRequest> = {}): InferRequest => ({
    model: 'comfort-index',
    location: HERE,
    inputs: [{ name: 'readings', datatype: 'FP32', shape: [1, 3], data: [31, 60, 650] }],
    ...extra,
  });
  let fabric: Fabric;
  beforeAll(() => {
    fabric = getFabric();
  });
  describe('MQTT v5 request/response through Mosquitto', () => {
    let device: MqttInferClient;
    beforeAll(async () => {
      device = await MqttInferClient.connect({
        url: fabric.mqttUrl,
        clientId: DEVICE_ID,
        password: DEVICE_PASSWORD,
      });
    });
    afterAll(async () => {
      await device?.close();
    });

    it('answers with the correlation id as request id, and the receipt verifies', async () => {
      const request = comfort();
      const answer = await device.infer(request, { correlationId: 'corr-1' });
      expect(answer.id).toBe('corr-1');
      expect(
        await verifyReceipt({
          request: { ...request, id: 'corr-1' },
          response: answer,
          nodeId: fabric.node.nodeId,
        }),
      ).toMatchObject({ valid: true });
      expect(device.inFlight).toBe(0);
    });

    it('rejects with the gateway’s error code and HTTP status from the answer’s user properties', async () => {
      const err = await device.infer(comfort({ model: 'no-such-model' })).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'MODEL_NOT_FOUND', status: 404 });
    });

    it('times out while the gateway is stopped, then answers again once it runs', async () => {
      fabric.gateway.child.kill('SIGSTOP');
      try {
        const err = await device.infer(comfort(), { timeoutMs: 500 }).catch((e: unknown) => e);
        expect(err).toMatchObject({ code: 'DEADLINE_EXCEEDED' });
        expect(device.inFlight).toBe(0);
      } finally {
        fabric.gateway.child.kill('SIGCONT');
      }
      // The late answer to the timed-out request arrives and is dropped; a new request is answered
      // (after a retry under a new correlation id when the late one still holds the only slot: 503).
      const answer = await device.infer(comfort(), { timeoutMs: 20_000 });
      expect(answer.node.id).toBe(fabric.node.nodeId);
    }, 30_000);

    it('retries a real 503 under a new correlation id (the gateway answers each id once)', async () => {
      const answers = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          device.infer(comfort(), {
            correlationId: `burst-${i}`,
            timeoutMs: 30_000,
            retry: { maxAttempts: 30 },
          }),
        ),
      );
      const ids = answers.map((a) => a.id);
      expect(ids.some((id) => /^burst-\d-\d+$/.test(id))).toBe(true);
      expect(new Set(ids.map((id) => id.split('-').slice(0, 2).join('-')))).toEqual(
        new Set(Array.from({ length: 6 }, (_, i) => `burst-${i}`)),
      );
    }, 60_000);
  });
}
