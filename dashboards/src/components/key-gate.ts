import { html } from 'htm/preact';
import { useState } from 'preact/hooks';

/**
 * The form a keyed view shows instead of data: without a key nothing is requested; after a refusal
 * the gateway's own message says why (unknown key, revoked, not an admin key…).
 */
export function KeyGate(props: { view: string; refusal?: string | undefined; onKey: (key: string) => void }) {
  const [value, setValue] = useState('');
  return html`<section class="card key-gate" aria-labelledby="key-gate-title">
    <h2 id="key-gate-title">${props.view} needs an API key</h2>
    ${props.refusal ? html`<p class="refused" role="alert">Refused by the gateway: ${props.refusal}</p>` : html`<p>This view shows one party’s data, so the gateway asks for that party’s key. The network map is public.</p>`}
    <form
      onSubmit=${(e: Event) => {
        e.preventDefault();
        if (value.trim()) props.onKey(value.trim());
      }}
    >
      <label for="api-key">API key</label>
      <input id="api-key" name="api-key" type="password" autocomplete="off" spellcheck=${false} value=${value} onInput=${(e: Event) => setValue((e.target as HTMLInputElement).value)} />
      <button type="submit">Use key</button>
    </form>
    <p class="hint">Sent only to this gateway as <code>Authorization: Bearer …</code>; kept for this tab (session storage).</p>
  </section>`;
}
