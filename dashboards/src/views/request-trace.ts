import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { ApiError, getJson } from '../api/client.ts';
import { Card } from '../components/common.ts';
import { ms, shortId } from '../components/format.ts';

/** One hop of a request as the gateway recorded it (GET /v1/traces/{requestId}). */
interface TraceHop {
  hop: string;
  startMs: number;
  durationMs: number;
  nodeId?: string;
  spanId?: string;
  ok?: boolean;
  detail?: string;
}
interface TraceRecord {
  requestId: string;
  traceId: string;
  callerSpanId?: string;
  model: string;
  channel: string;
  atMs: number;
  totalMs: number;
  ok: boolean;
  code?: string;
  cache?: string;
  hops: TraceHop[];
}

/** What each hop is, in the developer's words. */
const HOP_LABELS: Record<string, string> = {
  gateway: 'Gateway (whole request)',
  placement: 'Placement',
  cache: 'Response cache',
  node: 'Node round trip',
  'node-queue': 'Node queue',
  'node-run': 'Model run',
  'receipt-check': 'Receipt check',
  'spot-check': 'Oracle spot check (re-run)',
};

/**
 * Per-hop timings of one request: the developer types a request id (the `id` they sent, or the one
 * the answer carries) and sees the hops as a waterfall — placement, cache, each node tried with its
 * queue and run, the receipt check, and any spot check the oracle ran on it later, all in one trace.
 */
export function RequestTrace(props: { apiKey: string }) {
  const [requestId, setRequestId] = useState('');
  const [traces, setTraces] = useState<TraceRecord[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const lookUp = async (e: Event) => {
    e.preventDefault();
    const id = requestId.trim();
    if (!id) return;
    try {
      const found = await getJson<{ traces: TraceRecord[] }>(`/v1/traces/${encodeURIComponent(id)}`, {
        key: props.apiKey,
      });
      setTraces(found.traces);
      setError(null);
    } catch (err) {
      setTraces(null);
      setError(
        err instanceof ApiError && err.status === 404
          ? `No recent request "${id}" of this key.`
          : (err as Error).message,
      );
    }
  };
  return html`<${Card} title="Trace a request" id="trace-title" wide=${true}>
    <form class="trace-form" onSubmit=${lookUp}>
      <label
        >Request id
        <input
          name="request-id"
          value=${requestId}
          onInput=${(e: Event) => setRequestId((e.target as HTMLInputElement).value)}
      /></label>
      <button type="submit">Show hops</button>
    </form>
    ${error ? html`<p class="empty" role="status">${error}</p>` : null}
    ${traces?.map((t) => html`<${Waterfall} trace=${t} />`)}
  <//>`;
}

function Waterfall(props: { trace: TraceRecord }) {
  const t = props.trace;
  const endMs = Math.max(t.totalMs, ...t.hops.map((h) => h.startMs + h.durationMs), 0.001);
  const spot = t.hops.some((h) => h.hop === 'spot-check');
  return html`<div class="trace" data-testid="request-trace">
    <p>
      <code>${t.requestId}</code> · ${t.model} · ${t.channel} · ${t.ok ? 'ok' : t.code} ·
      ${ms(t.totalMs)}${t.cache ? ` · cache ${t.cache}` : ''} <br /><small class="muted"
        >trace
        <code>${t.traceId}</code
        >${t.callerSpanId ? html` · your span <code>${t.callerSpanId}</code>` : ''}</small
      >
    </p>
    <table data-testid="trace-hops">
      <caption>
        Hops, from arrival at the gateway${spot ? ' (a spot check runs after the answer)' : ''}
      </caption>
      <thead>
        <tr>
          <th scope="col">Hop</th>
          <th scope="col">Node</th>
          <th scope="col">Starts</th>
          <th scope="col">Takes</th>
          <th scope="col" class="bar-col">Timeline</th>
        </tr>
      </thead>
      <tbody>
        ${t.hops.map(
          (h) =>
            html`<tr class=${h.ok === false ? 'warn' : ''}>
              <td>
                ${HOP_LABELS[h.hop] ?? h.hop}${h.detail ? html` <small class="muted">${h.detail}</small>` : null}
              </td>
              <td>${h.nodeId ? shortId(h.nodeId) : ''}</td>
              <td>${ms(h.startMs)}</td>
              <td>${ms(h.durationMs)}</td>
              <td class="bar-col">
                <span
                  class="bar"
                  style=${`margin-left:${(100 * h.startMs) / endMs}%;width:${Math.max(0.5, (100 * h.durationMs) / endMs)}%`}
                ></span>
              </td>
            </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}
