import { html } from 'htm/preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { getJson } from '../api/client.ts';
import { openEventStream, type StreamEvent, type StreamStatus } from '../api/event-stream.ts';
import { LiveDot } from '../components/common.ts';
import { METRICS, scaleFor, type MetricId } from '../map/colors.ts';
import { hexPath } from '../map/hex-geometry.ts';
import { fitView, resolutionForView, worldToLatLng, zoomAt, type View } from '../map/projection.ts';
import { countryPaths } from '../map/world.ts';
import type { HexesResponse } from '../types.ts';
import { EventFeed } from './event-feed.ts';
import { HexPanel } from './hex-panel.ts';

/** Nodes sit in res-9 cells; finer map hexes would split a node's own cell. */
const MAX_RES = 9;
/** Live events trigger a re-read at most this often: heartbeats arrive every second or two per node. */
const REFRESH_MS = 1_500;
const ZOOM_STEP = 1.5;
/** Keyboard pan: a tenth of the smaller side per arrow press. */
const PAN_FRACTION = 0.1;

/** The public network map: H3 hexes over country outlines, pan/zoom, click for a hex's nodes. */
export function NetworkMap() {
  const wrap = useRef<HTMLDivElement>(null);
  const [size, setSize] = useState({ width: 800, height: 500 });
  const [view, setView] = useState<View | null>(null);
  const [metric, setMetric] = useState<MetricId>('coverage');
  const [data, setData] = useState<HexesResponse | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [refresh, setRefresh] = useState(0);
  const [feed, setFeed] = useState<StreamEvent[]>([]);
  const [status, setStatus] = useState<StreamStatus>({ state: 'connecting' });
  const [nowMs, setNowMs] = useState(Date.now());
  const drag = useRef<{ x: number; y: number; view: View; moved: boolean } | null>(null);

  useEffect(() => {
    const el = wrap.current!;
    const ro = new ResizeObserver(() => setSize({ width: el.clientWidth, height: Math.max(320, Math.min(640, Math.round(el.clientWidth * 0.6))) }));
    ro.observe(el);
    const clock = setInterval(() => setNowMs(Date.now()), 1000);
    return () => (ro.disconnect(), clearInterval(clock));
  }, []);

  const centerLat = view ? worldToLatLng({ x: (size.width / 2 - view.x) / view.scale, y: (size.height / 2 - view.y) / view.scale }).lat : 0;
  const res = view ? resolutionForView({ view, centerLat, maxRes: MAX_RES }) : 4;

  useEffect(() => {
    const abort = new AbortController();
    const t = setTimeout(() => {
      getJson<HexesResponse>(`/v1/network/hexes?res=${res}&metric=${metric}`, { signal: abort.signal })
        .then((d) => {
          setData(d);
          setError(null);
          // First data: frame the nodes (a newcomer's three cities, not the whole planet).
          setView((v) => v ?? fitView({ points: d.cells.filter((c) => c.nodes > 0), width: size.width, height: size.height }));
        })
        .catch((e: Error) => abort.signal.aborted || setError(e.message));
    }, 120);
    return () => (clearTimeout(t), abort.abort());
  }, [res, metric, refresh]);

  useEffect(() => {
    let last = 0;
    let pending: ReturnType<typeof setTimeout> | undefined;
    const close = openEventStream({
      path: '/v1/events/network',
      onStatus: setStatus,
      onEvent: (e) => {
        setFeed((f) => [e, ...f].slice(0, 12));
        const wait = Math.max(0, last + REFRESH_MS - Date.now());
        if (pending) return;
        pending = setTimeout(() => ((pending = undefined), (last = Date.now()), setRefresh((r) => r + 1)), wait);
      },
    });
    return () => (close(), clearTimeout(pending));
  }, []);

  const countries = useMemo(() => countryPaths(), []);
  const cells = data?.cells ?? [];
  const scale = scaleFor(metric, Math.max(0, ...cells.map((c) => c.value ?? 0)));
  const info = METRICS.find((m) => m.id === metric)!;
  const v = view ?? fitView({ points: [], width: size.width, height: size.height });
  const minScale = Math.min(size.width, size.height) / 1024 / 2;
  const zoom = (factor: number, px = size.width / 2, py = size.height / 2) => setView(zoomAt(v, { factor, px, py, minScale, maxScale: 1e5 }));
  const pan = (dx: number, dy: number) => setView({ ...v, x: v.x + dx, y: v.y + dy });
  const step = Math.min(size.width, size.height) * PAN_FRACTION;

  const onKey = (e: KeyboardEvent) => {
    const keys: Record<string, () => void> = {
      ArrowLeft: () => pan(step, 0),
      ArrowRight: () => pan(-step, 0),
      ArrowUp: () => pan(0, step),
      ArrowDown: () => pan(0, -step),
      '+': () => zoom(ZOOM_STEP),
      '=': () => zoom(ZOOM_STEP),
      '-': () => zoom(1 / ZOOM_STEP),
    };
    if (e.target !== e.currentTarget || !keys[e.key]) return;
    e.preventDefault();
    keys[e.key]!();
  };

  return html`<div class="map-view">
    <div class="toolbar">
      <div role="radiogroup" aria-label="Colour hexes by" class="segmented">
        ${METRICS.map(
          (m) => html`<button role="radio" aria-checked=${metric === m.id} class=${metric === m.id ? 'on' : ''} title=${m.help} onClick=${() => setMetric(m.id)}>${m.label}</button>`,
        )}
      </div>
      <div class="zoom" aria-label="Zoom">
        <button aria-label="Zoom in" onClick=${() => zoom(ZOOM_STEP)}>+</button>
        <button aria-label="Zoom out" onClick=${() => zoom(1 / ZOOM_STEP)}>−</button>
        <button onClick=${() => setView(fitView({ points: cells.filter((c) => c.nodes > 0), width: size.width, height: size.height }))}>Fit nodes</button>
      </div>
      <span class="res" data-testid="map-res" data-res=${res}>H3 res ${res}</span>
      <${LiveDot} status=${status} />
    </div>
    ${error ? html`<p class="refused" role="alert">Could not read the network: ${error}</p>` : null}
    <div class="map-and-panel">
      <div class="map" ref=${wrap}>
        <svg
          width=${size.width}
          height=${size.height}
          tabindex="0"
          role="group"
          aria-label=${`Network map, ${cells.length} hexes at H3 resolution ${res}. Arrow keys pan, plus and minus zoom, Tab reaches each hex.`}
          data-testid="network-map"
          data-loaded-res=${data?.res}
          aria-busy=${data?.res !== res}
          onKeyDown=${onKey}
          onWheel=${(e: WheelEvent) => {
            e.preventDefault();
            const r = (e.currentTarget as SVGElement).getBoundingClientRect();
            zoom(Math.exp(-e.deltaY * 0.002), e.clientX - r.left, e.clientY - r.top);
          }}
          onPointerDown=${(e: PointerEvent) => (drag.current = { x: e.clientX, y: e.clientY, view: v, moved: false })}
          onPointerMove=${(e: PointerEvent) => {
            const d = drag.current;
            if (!d) return;
            const dx = e.clientX - d.x;
            const dy = e.clientY - d.y;
            // A few pixels of jitter is still a click on a hex, not a pan.
            if (!d.moved && Math.hypot(dx, dy) < 4) return;
            if (!d.moved) (e.currentTarget as SVGElement).setPointerCapture(e.pointerId);
            d.moved = true;
            setView({ ...d.view, x: d.view.x + dx, y: d.view.y + dy });
          }}
          onPointerUp=${() => setTimeout(() => (drag.current = null))}
        >
          <rect class="ocean" width=${size.width} height=${size.height} />
          <g transform=${`translate(${v.x} ${v.y}) scale(${v.scale})`}>
            <g class="countries" aria-hidden="true">${countries.map((d) => html`<path d=${d} />`)}</g>
            <g class="hexes">
              ${cells.map(
                (c) => html`<path
                  d=${hexPath(c.cell)}
                  fill=${scale.color(c.value)}
                  class=${`hex${selected === c.cell ? ' selected' : ''}`}
                  data-cell=${c.cell}
                  data-nodes=${c.nodes}
                  tabindex="0"
                  role="button"
                  aria-label=${`Hex ${c.cell}: ${c.nodes} nodes, ${c.healthy} healthy, ${c.demand} requests; ${info.label} ${c.value ?? 'no data'}`}
                  onClick=${() => !drag.current?.moved && setSelected(c.cell)}
                  onKeyDown=${(e: KeyboardEvent) => (e.key === 'Enter' || e.key === ' ') && (e.preventDefault(), setSelected(c.cell))}
                ><title>${`${c.cell}: ${c.nodes} nodes (${c.healthy} healthy)`}</title></path>`,
              )}
            </g>
          </g>
        </svg>
        <div class="legend" aria-label=${`Legend: ${info.label}`}>
          <strong>${info.label}</strong> <span class="muted">${info.help}</span>
          <ul>${scale.legend.map((s) => html`<li><span class="swatch" style=${`background:${s.color}`}></span>${s.label}</li>`)}</ul>
          ${data && data.cells.length === 0 ? html`<p class="empty">No nodes have registered with this gateway yet.</p>` : null}
        </div>
      </div>
      <div class="side">
        ${selected
          ? html`<${HexPanel} cell=${selected} refresh=${refresh} nowMs=${nowMs} onClose=${() => setSelected(null)} />`
          : html`<section class="card"><h2>Hexes</h2><p>Click a hex (or Tab to it and press Enter) to see its nodes, signal, latency and demand. Zooming in switches to finer hexes.</p></section>`}
        <${EventFeed} events=${feed} nowMs=${nowMs} />
      </div>
    </div>
  </div>`;
}
