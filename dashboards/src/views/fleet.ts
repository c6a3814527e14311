import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { getJson } from '../api/client.ts';
import type { StreamEvent } from '../api/event-stream.ts';
import { useApiKey } from '../api/key.ts';
import { Chart } from '../components/chart.ts';
import { Card, LiveDot } from '../components/common.ts';
import { shortId, time } from '../components/format.ts';
import { KeyGate } from '../components/key-gate.ts';
import { fleetModel, LATENCY_BUCKETS_MS, type FleetResult } from './fleet-model.ts';
import { useKeyedData } from './keyed.ts';

/** Events kept in the page; the gateway replays its recent ones on connect. */
const MAX_EVENTS = 1_000;

function answer(r: FleetResult): string {
  const inf = r.inference;
  if (!inf) return '—';
  if (inf.status === 'buffering') return `buffering (${inf.haveReadings}/${inf.needReadings} readings)`;
  return `${inf.label ?? 'answered'}${inf.confidence !== undefined ? ` (${Math.round(inf.confidence * 100)}%)` : ''}${inf.node?.id ? ` by ${shortId(inf.node.id)}` : ''}`;
}

function downlink(r: FleetResult): string {
  const d = r.downlink;
  if (!d) return '—';
  return d.status === 'sent' ? `sent ${d.dataHex ?? ''} on port ${d.fPort ?? '?'} (${d.payloadBytes ?? '?'} B, ${d.delivery ?? ''})` : `not sent: ${d.reason ?? 'no reason given'}`;
}

/** A decoded value as a person reads it: long sample arrays (a vibration capture) are summarised. */
function decodedValue(v: unknown): string {
  if (Array.isArray(v) && v.length > 8) return `[${v.length} values: ${v.slice(0, 3).map(String).join(', ')}, …]`;
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/** A fleet's devices (for its key): last uplink, decoded values, answer, downlink or why not; errors; charts. */
export function FleetView() {
  const [key, setKey] = useApiKey();
  const [events, setEvents] = useState<StreamEvent[]>([]);
  const keyed = useKeyedData({
    key,
    stream: '/v1/events/fleet',
    load: async (k, signal) => {
      const { events: past } = await getJson<{ events: StreamEvent[] }>('/v1/fleet/events', { key: k, signal });
      setEvents((now) => mergeEvents(past, now));
      return true;
    },
    onEvent: (e) => setEvents((now) => mergeEvents(now, [e])),
  });

  if (!key || keyed.refusal) return html`<${KeyGate} view="The fleet view" refusal=${keyed.refusal} onKey=${setKey} />`;
  if (keyed.error) return html`<${Card} title="Fleet view"><p class="refused" role="alert">${keyed.error}</p><//>`;
  const m = fleetModel(events, Date.now());
  const noDevices = 'No fleet devices yet. Devices appear when the firmware bridge relays their first uplink result to this gateway (admin keys see every fleet; other keys, the fleets they own).';
  return html`<div class="fleet" data-testid="fleet-view">
    <header class="view-head">
      <h1>Fleet devices</h1>
      <${LiveDot} status=${keyed.status} />
      <button class="link" onClick=${() => setKey(undefined)}>Forget key</button>
    </header>
    <div class="grid">
      <${Card} title="Devices" id="devices-title" wide=${true} empty=${m.devices.length ? null : noDevices}>
        <div class="table-scroll"><table data-testid="devices">
          <thead><tr><th scope="col">Device</th><th scope="col">Last uplink</th><th scope="col">Decoded</th><th scope="col">Inference answer</th><th scope="col">Downlink</th></tr></thead>
          <tbody>
            ${m.devices.map(
              (d) => html`<tr key=${d.key} data-dev-eui=${d.last.devEui}>
                <td><code>${d.last.devEui}</code><br /><small class="muted">${d.last.fleet} · ${d.uplinks} uplinks</small></td>
                <td>${time(d.atMs)}${d.last.fCnt !== undefined ? ` · fCnt ${d.last.fCnt}` : ''}</td>
                <td><dl class="decoded">${Object.entries(d.last.decoded ?? {}).map(([k, v]) => html`<div><dt>${k}</dt><dd>${decodedValue(v)}</dd></div>`)}</dl></td>
                <td>${answer(d.last)}</td>
                <td class=${d.last.downlink?.status === 'sent' ? '' : 'warn'}>${downlink(d.last)}</td>
              </tr>`,
            )}
          </tbody>
        </table></div>
      <//>
      <${Card} title="Error events" id="fleet-errors-title" empty=${m.errors.length ? null : 'No error events.'}>
        <ol class="feed-list">${m.errors.map((e) => html`<li key=${e.id}>${time(e.atMs)} <code>${e.code}</code> ${e.devEui ? html`<code>${e.devEui}</code>` : null} ${e.message}</li>`)}</ol>
      <//>
      <${Card} title="Node service time" id="hist-title" empty=${m.histogram.some((n) => n > 0) ? null : 'No answered uplinks yet.'}>
        <${Chart}
          title="Answered uplinks by node service time (from the receipts)"
          x=${m.histogram.map((_, i) => i)}
          xLabels=${[...LATENCY_BUCKETS_MS.map((ms) => `≤${ms}`), `>${LATENCY_BUCKETS_MS.at(-1)}`]}
          ys=${[m.histogram]}
          series=${[{ label: 'uplinks', color: '#21918c', bars: true }]}
          xTime=${false}
          xLabel="ms"
        />
      <//>
      <${Card} title="Requests over time" id="fleet-timeline-title" empty=${events.length ? null : 'Nothing yet.'}>
        <${Chart} title="Results and errors per minute" x=${m.timeline.x} ys=${[m.timeline.results, m.timeline.errors]} series=${[{ label: 'results', color: '#21918c', bars: true }, { label: 'errors', color: '#e4572e', bars: true }]} />
      <//>
    </div>
  </div>`;
}

function mergeEvents(a: StreamEvent[], b: StreamEvent[]): StreamEvent[] {
  const byId = new Map<number, StreamEvent>();
  for (const e of [...a, ...b]) byId.set(e.id, e);
  return [...byId.values()].sort((x, y) => x.id - y.id).slice(-MAX_EVENTS);
}
