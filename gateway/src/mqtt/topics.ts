/**
 * The gateway's MQTT topic tree. Two request forms share one payload (the `/v1/infer` body):
 * - MQTT v5: publish to `hexedge/v1/infer/{clientId}/{model}` with Response Topic (under
 *   `hexedge/v1/res/{clientId}/`) and Correlation Data;
 * - MQTT v3.1.1 (no response properties): publish to `hexedge/v1/req/{clientId}/{requestId}`, read the
 *   answer on `hexedge/v1/res/{clientId}/{requestId}`.
 * Both request topics carry the sender's client id, so the broker's ACL vouches for who sent a request
 * (a PUBLISH carries no sender): that is what keeps a device from having its requests answered to, or
 * counted against, another device.
 */
export const TOPIC_ROOT = 'hexedge/v1';
export const INFER_FILTER = `${TOPIC_ROOT}/infer/+/+`;
export const REQUEST_FILTER = `${TOPIC_ROOT}/req/+/+`;
/** Shared-subscription group every gateway instance joins, so the broker splits requests between them. */
export const DEFAULT_SHARE_GROUP = 'hexedge';

export const inferTopic = (clientId: string, model: string) => `${TOPIC_ROOT}/infer/${clientId}/${model}`;
export const requestTopic = (clientId: string, requestId: string) =>
  `${TOPIC_ROOT}/req/${clientId}/${requestId}`;
export const responseTopic = (clientId: string, requestId: string) =>
  `${TOPIC_ROOT}/res/${clientId}/${requestId}`;
/** Everything a client may read: its own answers (v5 clients pick any suffix under it). */
export const responseRoot = (clientId: string) => `${TOPIC_ROOT}/res/${clientId}`;

/** The filters the ingress subscribes to; with a group, as `$share/{group}/…` (MQTT v5 §4.8.2). */
export function ingressFilters(shareGroup?: string): string[] {
  const filters = [INFER_FILTER, REQUEST_FILTER];
  return shareGroup ? filters.map((f) => `$share/${shareGroup}/${f}`) : filters;
}

/** One topic level that names something (client id, request id, model): no separators, no wildcards. */
export function isValidTopicLevel(level: string): boolean {
  return level.length > 0 && level.length <= 128 && /^[\x21-\x7e]+$/.test(level) && !/[/+#$]/.test(level);
}

export type RequestTopic =
  { form: 'v5'; clientId: string; model: string } | { form: 'v311'; clientId: string; requestId: string };

/** Which request form a topic is, or undefined for a topic that is neither. */
export function parseRequestTopic(topic: string): RequestTopic | undefined {
  const levels = topic.split('/');
  if (levels[0] !== 'hexedge' || levels[1] !== 'v1') return undefined;
  if (
    levels.length === 5 &&
    levels[2] === 'infer' &&
    isValidTopicLevel(levels[3]!) &&
    isValidTopicLevel(levels[4]!)
  ) {
    return { form: 'v5', clientId: levels[3]!, model: levels[4]! };
  }
  if (
    levels.length === 5 &&
    levels[2] === 'req' &&
    isValidTopicLevel(levels[3]!) &&
    isValidTopicLevel(levels[4]!)
  ) {
    return { form: 'v311', clientId: levels[3]!, requestId: levels[4]! };
  }
  return undefined;
}

/** The client a response topic belongs to (`hexedge/v1/res/{clientId}/…`), or undefined. */
export function responseTopicOwner(topic: string): string | undefined {
  const levels = topic.split('/');
  if (levels.length < 5 || levels[0] !== 'hexedge' || levels[1] !== 'v1' || levels[2] !== 'res')
    return undefined;
  if (!isValidTopicLevel(levels[3]!) || levels.slice(4).some((l) => l === '' || /[+#]/.test(l)))
    return undefined;
  return levels[3];
}
