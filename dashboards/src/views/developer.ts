import { html } from 'htm/preact';
import { useRef, useState } from 'preact/hooks';
import { getJson } from '../api/client.ts';
import type { StreamEvent } from '../api/event-stream.ts';
import { useApiKey } from '../api/key.ts';
import { Chart } from '../components/chart.ts';
import { Card, LiveDot, Stat } from '../components/common.ts';
import { ms, pct, shortId, time } from '../components/format.ts';
import { KeyGate } from '../components/key-gate.ts';
import type { RequestEventData, Usage, UsageDetail } from '../types.ts';
import { useKeyedData } from './keyed.ts';
import { RequestTrace } from './request-trace.ts';

/** A live event re-reads the aggregates at most this often. */
const RELOAD_MS = 1_000;

/** One API key's view: usage against quota, latency by region, errors by code, requests over time. */
export function DeveloperView() {
  const [key, setKey] = useApiKey();
  const [recent, setRecent] = useState<StreamEvent<RequestEventData>[]>([]);
  const pending = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const keyed = useKeyedData({
    key,
    stream: '/v1/events/developer',
    load: async (k, signal) => {
      const [usage, detail] = await Promise.all([getJson<Usage>('/v1/usage', { key: k, signal }), getJson<UsageDetail>('/v1/usage/detail', { key: k, signal })]);
      return { usage, detail };
    },
    onEvent: (e) => {
      setRecent((r) => [e as unknown as StreamEvent<RequestEventData>, ...r].slice(0, 15));
      pending.current ??= setTimeout(() => ((pending.current = undefined), keyed.reload()), RELOAD_MS);
    },
  });

  if (!key || keyed.refusal) return html`<${KeyGate} view="The developer view" refusal=${keyed.refusal} onKey=${setKey} />`;
  if (keyed.error) return html`<${Card} title="Developer view"><p class="refused" role="alert">${keyed.error}</p><//>`;
  if (!keyed.data) return html`<p>Loading usage…</p>`;
  const { usage, detail } = keyed.data;
  const errors = Object.entries(usage.errors).sort((a, b) => b[1] - a[1]);
  const used = usage.key.usedToday / usage.key.dailyQuota;
  return html`<div class="developer" data-testid="developer-view">
    <header class="view-head">
      <h1>Key <code>${usage.key.name}</code> <small class="muted">${usage.key.id}</small></h1>
      <${LiveDot} status=${keyed.status} />
      <button class="link" onClick=${() => setKey(undefined)}>Forget key</button>
    </header>
    <div class="grid">
      <${Card} title="Usage against quota" id="quota-title">
        <dl class="stats">
          <${Stat} label="Requests today" value=${`${usage.key.usedToday} / ${usage.key.dailyQuota.toLocaleString()}`} hint=${`${pct(used)} of the daily quota (UTC day)`} />
          <${Stat} label="Inferences since start" value=${String(usage.requests)} />
          <${Stat} label="Errors" value=${String(Object.values(usage.errors).reduce((s, n) => s + n, 0))} />
        </dl>
        <progress max="1" value=${Math.min(1, used)} aria-label="Daily quota used"></progress>
      <//>
      <${Card} title="Requests over the last hour" id="timeline-title" empty=${usage.requests ? null : 'No inference requests with this key yet.'}>
        <${Chart}
          title="Requests and errors per minute"
          x=${detail.timeline.map((t) => t.atMs / 1000)}
          ys=${[detail.timeline.map((t) => t.requests), detail.timeline.map((t) => t.errors)]}
          series=${[{ label: 'requests', color: '#21918c', bars: true }, { label: 'errors', color: '#e4572e', bars: true }]}
        />
      <//>
      <${Card} title="Latency by region" id="region-title" empty=${detail.regions.length ? null : 'No requests in the last hour.'}>
        <table data-testid="regions">
          <thead><tr><th scope="col">Caller region</th><th scope="col">Requests</th><th scope="col">Errors</th><th scope="col">p50</th><th scope="col">p99</th></tr></thead>
          <tbody>${detail.regions.map((r) => html`<tr><td>${r.region}</td><td>${r.requests}</td><td>${r.errors}</td><td>${ms(r.p50Ms)}</td><td>${ms(r.p99Ms)}</td></tr>`)}</tbody>
        </table>
      <//>
      <${Card} title="Errors by code" id="errors-title" empty=${errors.length ? null : 'No errors.'}>
        <table><thead><tr><th scope="col">Code</th><th scope="col">Count</th></tr></thead><tbody>${errors.map(([code, n]) => html`<tr><td><code>${code}</code></td><td>${n}</td></tr>`)}</tbody></table>
      <//>
      <${Card} title="Models" id="models-title" empty=${usage.models.length ? null : 'No model used yet.'}>
        <table><thead><tr><th scope="col">Model</th><th scope="col">Requests</th><th scope="col">Errors</th><th scope="col">p50</th></tr></thead>
          <tbody>${usage.models.map((m) => html`<tr><td>${m.model}</td><td>${m.requests}</td><td>${m.errors}</td><td>${ms(m.p50Ms)}</td></tr>`)}</tbody></table>
      <//>
      <${RequestTrace} apiKey=${key} />
      <${Card} title="Live requests" id="live-title" empty=${recent.length ? null : 'Requests made with this key appear here as they happen.'}>
        <ol class="feed-list" data-testid="live-requests">${recent.map((e) => html`<li key=${e.id}>${time(e.atMs)} ${e.data.model} ${e.data.ok ? 'ok' : e.data.code} ${ms(e.data.totalMs)} ${e.data.region ?? ''} ${e.data.nodeId ? `→ ${shortId(e.data.nodeId)}` : ''}</li>`)}</ol>
      <//>
    </div>
  </div>`;
}
