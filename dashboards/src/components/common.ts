import { html } from 'htm/preact';
import type { ComponentChildren } from 'preact';
import type { StreamStatus } from '../api/event-stream.ts';

/** A section with a heading; `empty` (when given) replaces the body with an honest explanation. */
export function Card(props: { title: string; id?: string; empty?: string | null; wide?: boolean; children?: ComponentChildren }) {
  return html`<section class=${props.wide ? 'card wide' : 'card'} aria-labelledby=${props.id}>
    <h2 id=${props.id}>${props.title}</h2>
    ${props.empty ? html`<p class="empty">${props.empty}</p>` : props.children}
  </section>`;
}

export function StatusBadge(props: { status: string }) {
  return html`<span class="badge badge-${props.status}">${props.status}</span>`;
}

/** The SSE connection state, so a frozen page is never mistaken for a quiet network. */
export function LiveDot(props: { status: StreamStatus }) {
  const s = props.status;
  const text = 'message' in s ? `${s.state === 'refused' ? 'refused' : 'offline'}: ${s.message}` : s.state === 'live' ? 'live' : 'connecting…';
  return html`<span class="live live-${s.state}" role="status" aria-live="polite">${text}</span>`;
}

export function Stat(props: { label: string; value: string; hint?: string }) {
  return html`<div class="stat"><dt>${props.label}</dt><dd>${props.value}</dd>${props.hint ? html`<small>${props.hint}</small>` : null}</div>`;
}
