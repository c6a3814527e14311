import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { getJson } from '../api/client.ts';
import { StatusBadge } from '../components/common.ts';
import { ago, ms, shortId } from '../components/format.ts';
import type { HexDetail } from '../types.ts';

/** What a clicked hex holds: its nodes (each linking to the operator view), signal, latency and demand. */
export function HexPanel(props: { cell: string; refresh: number; nowMs: number; onClose: () => void }) {
  const [detail, setDetail] = useState<HexDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const abort = new AbortController();
    getJson<HexDetail>(`/v1/network/hexes/${props.cell}`, { signal: abort.signal })
      .then((d) => (setDetail(d), setError(null)))
      .catch((e: Error) => abort.signal.aborted || setError(e.message));
    return () => abort.abort();
  }, [props.cell, props.refresh]);

  const d = detail?.cell === props.cell ? detail : null;
  return html`<aside class="card hex-panel" aria-labelledby="hex-title" data-testid="hex-panel">
    <header>
      <h2 id="hex-title">Hex <code>${props.cell}</code></h2>
      <button class="icon" aria-label="Close hex details" onClick=${props.onClose}>×</button>
    </header>
    ${error ? html`<p class="refused" role="alert">${error}</p>` : null}
    ${!d
      ? html`<p>Loading…</p>`
      : html`
          <dl class="stats">
            <div class="stat"><dt>Resolution</dt><dd>${d.res}</dd></div>
            <div class="stat"><dt>Demand (15 min)</dt><dd>${d.demand} requests</dd></div>
            <div class="stat"><dt>p50 latency from here</dt><dd>${ms(d.p50LatencyMs)}</dd></div>
            <div class="stat">
              <dt>Radio signal</dt>
              <dd>${d.signal ? `${d.signal.rssiDbm} dBm / ${d.signal.snrDb} dB SNR (${d.signal.witnesses} witnesses)` : 'no evidence yet'}</dd>
              ${d.signal ? null : html`<small>comes from the coverage oracle’s witness reports</small>`}
            </div>
          </dl>
          ${d.nodes.length === 0
            ? html`<p class="empty">No nodes in this hex: it is coloured by the requests that came from it.</p>`
            : html`<table class="nodes">
                <caption>
                  ${d.truncated
                    ? html`The ${d.nodes.length} nodes nearest the centre of this hex; it holds more (<span data-testid="hex-truncated">zoom in for the rest</span>)`
                    : `${d.nodes.length} node${d.nodes.length === 1 ? '' : 's'} in this hex`}
                </caption>
                <thead><tr><th scope="col">Node</th><th scope="col">Status</th><th scope="col">Trust</th><th scope="col">Models</th><th scope="col">Queue</th><th scope="col">Heartbeat</th><th scope="col">p50 service</th></tr></thead>
                <tbody>
                  ${d.nodes.map(
                    (n) => html`<tr data-node=${n.id}>
                      <td><a href=${`#/node/${encodeURIComponent(n.id)}`} title=${n.id}>${shortId(n.id)}</a></td>
                      <td><${StatusBadge} status=${n.status} /></td>
                      <td>${n.trust.probation ? 'probation' : n.trust.score.toFixed(2)}</td>
                      <td title=${n.models.map((m) => `${m.name}@${m.version}${m.ready ? '' : ' (loading)'}`).join('\n')}>${n.models.filter((m) => m.ready).length}/${n.models.length} ready</td>
                      <td>${n.queueDepth}</td>
                      <td>${ago(n.lastHeartbeatAtMs, props.nowMs)}</td>
                      <td>${ms(n.served.p50Ms)}</td>
                    </tr>`,
                  )}
                </tbody>
              </table>`}
        `}
  </aside>`;
}
