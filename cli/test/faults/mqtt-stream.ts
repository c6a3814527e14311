import type { MqttClient } from 'mqtt';
import { waitUntil } from '@hexedge/test-kit';
import { inferBody, MODEL } from './fabric.ts';

export interface StreamRequest {
  id: string;
  sentAtMs: number;
  /** When the broker's PUBACK with reason code 0 (Success) arrived: the request was *accepted*. */
  acceptedAtMs?: number;
  /**
   * A PUBACK with a non-zero reason code refuses the request in so many words, e.g. 0x10 "No matching
   * subscribers" (MQTT v5 §3.4.2.1): the device knows nobody will answer it, so it is not accepted.
   */
  refusedReasonCode?: number;
  /** Why the publish was never acknowledged (connection lost before the PUBACK, …). */
  publishError?: string;
  answers: { atMs: number; ok: boolean; code?: string; message?: string }[];
}

/**
 * A device's MQTT v5 request stream: QoS 1 requests to `hexedge/v1/infer/{id}/{model}` with a Response
 * Topic under its own `hexedge/v1/res/{id}/` and Correlation Data = request id; answers are matched
 * back by correlation data and counted, so a duplicate or a loss shows up per request.
 */
export function requestStream(client: MqttClient, deviceId: string) {
  const requests = new Map<string, StreamRequest>();
  const strays: string[] = [];
  const responseTopic = `hexedge/v1/res/${deviceId}/stream`;
  // mqtt.js resolves a publish with the stored PUBLISH, not the PUBACK: read reason codes off the wire.
  const pubackReasons = new Map<number, number>();
  client.on('packetreceive', (packet) => {
    if (packet.cmd === 'puback' && packet.messageId !== undefined)
      pubackReasons.set(packet.messageId, packet.reasonCode ?? 0);
  });
  client.on('message', (_topic, payload, packet) => {
    const id = packet.properties?.correlationData?.toString();
    const request = id === undefined ? undefined : requests.get(id);
    if (!request) return void strays.push(id ?? '(no correlation data)');
    let body: { error?: { code: string; message: string } } = {};
    try {
      body = JSON.parse(payload.toString()) as typeof body;
    } catch {
      body = { error: { code: 'UNPARSEABLE', message: payload.toString().slice(0, 80) } };
    }
    request.answers.push({
      atMs: Date.now(),
      ok: !body.error,
      ...(body.error ? { code: body.error.code, message: body.error.message } : {}),
    });
  });
  return {
    requests,
    strays,
    subscribe: () => client.subscribeAsync(`hexedge/v1/res/${deviceId}/#`, { qos: 1 }),
    /** Publishes one request; resolves when it is accepted (PUBACK) or its publish fails. */
    async send(id: string): Promise<StreamRequest> {
      const request: StreamRequest = { id, sentAtMs: Date.now(), answers: [] };
      requests.set(id, request);
      try {
        const sent = await client.publishAsync(
          `hexedge/v1/infer/${deviceId}/${MODEL}`,
          JSON.stringify(inferBody({ model: undefined })),
          {
            qos: 1,
            properties: { responseTopic, correlationData: Buffer.from(id) },
          },
        );
        const reason = sent?.messageId === undefined ? 0 : (pubackReasons.get(sent.messageId) ?? 0);
        if (reason === 0) request.acceptedAtMs = Date.now();
        else request.refusedReasonCode = reason;
      } catch (err) {
        request.publishError = (err as Error).message;
      }
      return request;
    },
    /**
     * The positive marker before counting losses and duplicates: one more request, published after
     * every other, whose answer arrives after theirs would (one device, one ordered stream). Not counted.
     */
    async marker(timeoutMs = 10_000): Promise<void> {
      const id = `marker-${requests.size}`;
      const request = await this.send(id);
      await waitUntil(`the stream's marker request ${id} to be answered`, () => request.answers.length > 0, {
        timeoutMs,
      });
    },
    summary() {
      const all = [...requests.values()].filter((r) => !r.id.startsWith('marker-'));
      const accepted = all.filter((r) => r.acceptedAtMs !== undefined);
      return {
        sent: all.length,
        accepted: accepted.length,
        answered: all.filter((r) => r.answers.some((a) => a.ok)).length,
        /** Answered only with documented errors, or refused by the broker with a PUBACK reason code. */
        failedClearly: all.filter(
          (r) =>
            (r.answers.length > 0 && r.answers.every((a) => !a.ok && a.code && a.message)) ||
            (r.answers.length === 0 && r.refusedReasonCode !== undefined),
        ).length,
        refusedByBroker: all.filter((r) => r.refusedReasonCode !== undefined).length,
        /** Accepted by the broker and never answered at all. */
        lost: accepted.filter((r) => r.answers.length === 0).length,
        duplicates: all.reduce((n, r) => n + Math.max(0, r.answers.length - 1), 0),
        errorCodes: [
          ...new Set(
            all.flatMap((r) => r.answers.filter((a) => !a.ok).map((a) => `${a.code}: ${a.message}`)),
          ),
        ],
      };
    },
  };
}
