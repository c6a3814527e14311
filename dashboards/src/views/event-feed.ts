import { html } from 'htm/preact';
import type { StreamEvent } from '../api/event-stream.ts';
import { ago, ms, shortId } from '../components/format.ts';

function describe(e: StreamEvent): string {
  const d = e.data as Record<string, unknown>;
  switch (e.type) {
    case 'node.heartbeat':
      return `heartbeat from ${shortId(String(d.id))} (${String(d.status)}, queue ${String(d.queueDepth)})`;
    case 'node.status':
      return `${shortId(String(d.id))} is now ${String(d.status)} (was ${String(d.was)})`;
    case 'node.removed':
      return `${shortId(String(d.id))} left the registry`;
    case 'request':
      return `${String(d.model)} request ${d.ok ? 'served' : 'failed'} in ${ms(d.totalMs as number)}${d.nodeId ? ` by ${shortId(String(d.nodeId))}` : ''}`;
    default:
      return e.type;
  }
}

/** The latest public events: proof that the page is live, and what just happened. */
export function EventFeed(props: { events: StreamEvent[]; nowMs: number }) {
  return html`<section class="card feed" aria-labelledby="feed-title">
    <h2 id="feed-title">Live events</h2>
    ${props.events.length === 0
      ? html`<p class="empty">Waiting for the first event…</p>`
      : html`<ol aria-live="off">${props.events.map((e) => html`<li key=${e.id} data-type=${e.type}><span class="muted">${ago(e.atMs, props.nowMs)}</span> ${describe(e)}</li>`)}</ol>`}
  </section>`;
}
