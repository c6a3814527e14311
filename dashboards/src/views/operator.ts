import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { getJson } from '../api/client.ts';
import { openEventStream, type StreamStatus } from '../api/event-stream.ts';
import { Chart } from '../components/chart.ts';
import { Card, LiveDot, Stat, StatusBadge } from '../components/common.ts';
import { ago, ms, time } from '../components/format.ts';
import type { OperatorNode } from '../types.ts';
import { OracleSections } from './operator-oracle.ts';

/** Heartbeats kept for the load chart: at one per 2 s, the last ten minutes. */
const MAX_BEATS = 300;

interface Beat {
  atMs: number;
  queueDepth: number;
  inFlight: number;
}

/** Ask for a node by id (its public key) when none is in the URL. */
function NodeLookup() {
  const [id, setId] = useState('');
  return html`<${Card} title="Operator view" id="lookup-title">
    <form onSubmit=${(e: Event) => (e.preventDefault(), id.trim() && (location.hash = `#/node/${encodeURIComponent(id.trim())}`))}>
      <label for="node-id">Node id (public key)</label>
      <input id="node-id" value=${id} onInput=${(e: Event) => setId((e.target as HTMLInputElement).value)} spellcheck=${false} />
      <button type="submit">Show node</button>
    </form>
    <p class="hint">Or click a hex on the network map and follow a node’s link.</p>
  <//>`;
}

/** One node as its operator sees it: health, load, models, service times, trust, and the oracle’s findings. */
export function OperatorView(props: { nodeId: string | undefined }) {
  const [node, setNode] = useState<OperatorNode | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [beats, setBeats] = useState<Beat[]>([]);
  const [status, setStatus] = useState<StreamStatus>({ state: 'connecting' });
  const [refresh, setRefresh] = useState(0);
  const [nowMs, setNowMs] = useState(Date.now());
  const id = props.nodeId;

  useEffect(() => {
    if (!id) return;
    const abort = new AbortController();
    getJson<OperatorNode>(`/v1/nodes/${encodeURIComponent(id)}/operator`, { signal: abort.signal })
      .then((n) => (setNode(n), setError(null)))
      .catch((e: Error) => abort.signal.aborted || setError(e.message));
    return () => abort.abort();
  }, [id, refresh]);

  useEffect(() => {
    if (!id) return;
    setBeats([]);
    const clock = setInterval(() => setNowMs(Date.now()), 1000);
    const close = openEventStream({
      path: '/v1/events/network',
      onStatus: setStatus,
      onEvent: (e) => {
        const d = e.data as { id?: string; nodeId?: string; lastHeartbeatAtMs?: number; queueDepth?: number; inFlight?: number };
        if (d.id !== id && d.nodeId !== id) return;
        if (e.type === 'node.heartbeat') setBeats((b) => [...b, { atMs: d.lastHeartbeatAtMs ?? e.atMs, queueDepth: d.queueDepth ?? 0, inFlight: d.inFlight ?? 0 }].slice(-MAX_BEATS));
        setRefresh((r) => r + 1);
      },
    });
    return () => (close(), clearInterval(clock));
  }, [id]);

  if (!id) return html`<${NodeLookup} />`;
  if (error) return html`<${Card} title="Node"><p class="refused" role="alert">${error}</p><//>`;
  if (!node) return html`<p>Loading node…</p>`;

  const silentMs = nowMs - node.lastHeartbeatAtMs;
  return html`<div class="operator" data-testid="operator-view">
    <header class="view-head">
      <h1>Node <code class="node-id" title=${node.id}>${node.id}</code></h1>
      <${StatusBadge} status=${node.status} />
      <${LiveDot} status=${status} />
    </header>
    <div class="grid">
      <${Card} title="Status and heartbeats" id="hb-title">
        <dl class="stats">
          <${Stat} label="Status" value=${node.status + (node.draining ? ' (draining)' : '')} />
          <${Stat} label="Last heartbeat" value=${ago(node.lastHeartbeatAtMs, nowMs)} hint=${`every ${node.heartbeatIntervalMs / 1000} s expected${silentMs > 3 * node.heartbeatIntervalMs ? ' — overdue' : ''}`} />
          <${Stat} label="Registered" value=${new Date(node.registeredAtMs).toLocaleString()} />
          <${Stat} label="Location" value=${`${node.lat.toFixed(4)}, ${node.lng.toFixed(4)}`} hint=${`${[...node.regions].sort((a, b) => Number(!/^[A-Z]{2}$/.test(a)) - Number(!/^[A-Z]{2}$/.test(b))).slice(0, 3).join(' · ')} — ${node.locationVerified ? 'verified' : 'not yet verified'}`} />
        </dl>
        ${beats.length < 2
          ? html`<p class="empty">Heartbeats seen since this page opened: ${beats.length}. The load chart starts at the second.</p>`
          : html`<${Chart} title="Queue and in-flight requests at each heartbeat" x=${beats.map((b) => b.atMs / 1000)} ys=${[beats.map((b) => b.queueDepth), beats.map((b) => b.inFlight)]} series=${[{ label: 'queue', color: '#e4572e' }, { label: 'in flight', color: '#21918c' }]} height=${140} />`}
      <//>
      <${Card} title="Requests served (seen by this gateway)" id="served-title">
        <dl class="stats">
          <${Stat} label="Requests" value=${String(node.served.requests)} />
          <${Stat} label="Errors" value=${String(node.served.errors)} />
          <${Stat} label="p50 service time" value=${ms(node.served.p50Ms)} hint="from the node’s signed receipts" />
          <${Stat} label="p99 service time" value=${ms(node.served.p99Ms)} />
          <${Stat} label="Last served" value=${node.served.lastServedAtMs ? time(node.served.lastServedAtMs) : 'not yet'} />
        </dl>
      <//>
      <${Card} title="Hardware and execution providers" id="hw-title">
        <dl class="stats">
          <${Stat} label="Execution providers" value=${node.hardware.executionProviders.join(', ')} />
          <${Stat} label="CPU cores" value=${String(node.hardware.cpuCores)} />
          <${Stat} label="Memory" value=${`${Math.round(node.hardware.memoryMb / 1024)} GiB`} />
        </dl>
      <//>
      <${Card} title="Models held" id="models-title" empty=${node.models.length ? null : 'This node announces no models.'}>
        <table>
          <thead><tr><th scope="col">Model</th><th scope="col">State</th><th scope="col">Provider</th><th scope="col">Queue</th><th scope="col">In flight</th><th scope="col">EWMA service</th></tr></thead>
          <tbody>
            ${node.models.map(
              (m) => html`<tr>
                <td>${m.name}@${m.version}</td>
                <td>${m.ready ? 'ready' : 'loading'}</td>
                <td>${m.executionProvider ?? '—'}</td>
                <td>${m.load?.queueDepth ?? '—'}</td>
                <td>${m.load?.inFlight ?? '—'}</td>
                <td>${ms(m.load?.ewmaServiceMs)}</td>
              </tr>`,
            )}
          </tbody>
        </table>
      <//>
      <${Card} title="Trust" id="trust-title">
        <p class="big" data-testid="trust">${node.trust.probation ? 'On probation' : node.trust.score.toFixed(2)}</p>
        ${node.trust.probation
          ? html`<p class="empty">No oracle score yet: placement gives this node the neutral default (${node.trust.score}) and only a small share of first-choice traffic until the coverage oracle scores it.</p>`
          : node.trust.reasons.length
            ? html`<ul>${node.trust.reasons.map((r) => html`<li>${r}</li>`)}</ul>`
            : html`<p class="muted">The oracle gave no reasons with this score.</p>`}
      <//>
      <${OracleSections} oracle=${node.oracle} posp=${node.posp} />
    </div>
  </div>`;
}
