import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { DeveloperView } from './views/developer.ts';
import { FleetView } from './views/fleet.ts';
import { NetworkMap } from './views/network-map.ts';
import { OperatorView } from './views/operator.ts';
import { RolloutsView } from './views/rollouts.ts';

/**
 * Hash routes (`#/map`, `#/node/{id}`, `#/fleet`, `#/developer`, `#/rollouts`): the gateway serves one static page
 * at /dashboard/ and needs no server-side routes; a view's URL can still be shared.
 */
export type Route = { view: 'map' } | { view: 'node'; nodeId?: string } | { view: 'fleet' } | { view: 'developer' } | { view: 'rollouts' };

export function parseRoute(hash: string): Route {
  const [, view, arg] = hash.replace(/^#/, '').split('/');
  if (view === 'node') return arg ? { view: 'node', nodeId: decodeURIComponent(arg) } : { view: 'node' };
  if (view === 'fleet' || view === 'developer' || view === 'rollouts') return { view };
  return { view: 'map' };
}

const NAV = [
  { view: 'map', href: '#/map', label: 'Network map' },
  { view: 'node', href: '#/node', label: 'Operator' },
  { view: 'fleet', href: '#/fleet', label: 'Fleet' },
  { view: 'developer', href: '#/developer', label: 'Developer' },
  { view: 'rollouts', href: '#/rollouts', label: 'Rollouts' },
] as const;

export function App() {
  const [route, setRoute] = useState(parseRoute(location.hash));
  useEffect(() => {
    const onHash = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  useEffect(() => {
    // Move focus to the new view's content so keyboard and screen-reader users land on it.
    document.getElementById('main')?.focus({ preventScroll: true });
    document.title = `HexEdge — ${NAV.find((n) => n.view === route.view)!.label}`;
  }, [route.view]);

  return html`
    <a class="skip" href="#main" onClick=${(e: Event) => (e.preventDefault(), document.getElementById('main')?.focus())}>Skip to content</a>
    <header class="top">
      <span class="brand">HexEdge</span>
      <nav aria-label="Views">
        ${NAV.map((n) => html`<a href=${n.href} aria-current=${route.view === n.view ? 'page' : undefined}>${n.label}</a>`)}
      </nav>
    </header>
    <main id="main" tabindex="-1">
      ${route.view === 'map'
        ? html`<${NetworkMap} />`
        : route.view === 'node'
          ? html`<${OperatorView} key=${route.nodeId ?? ''} nodeId=${route.nodeId} />`
          : route.view === 'fleet'
            ? html`<${FleetView} />`
            : route.view === 'rollouts'
              ? html`<${RolloutsView} />`
              : html`<${DeveloperView} />`}
    </main>
  `;
}
