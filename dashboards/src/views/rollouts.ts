import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { postJson } from '../api/admin.ts';
import { ApiError, getJson } from '../api/client.ts';
import { useApiKey } from '../api/key.ts';
import { Card } from '../components/common.ts';
import { time } from '../components/format.ts';
import { KeyGate } from '../components/key-gate.ts';
import type { RolloutsResponse } from '../rollout-types.ts';
import { FinishedRollouts, RunningRollout } from './rollout-card.ts';

/** Rollouts are judged every second at the gateway; the view reads them this often. */
const POLL_MS = 1_000;

/**
 * Model rollouts (admin key): each running rollout's canary and shadow figures against its thresholds,
 * with promote and abort; finished ones with their outcome and time to decision; per-model version policies.
 */
export function RolloutsView() {
  const [key, setKey] = useApiKey();
  const [data, setData] = useState<RolloutsResponse | null>(null);
  const [refusal, setRefusal] = useState<string | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [tick, setTick] = useState(0);

  useEffect(() => {
    if (!key) return;
    const abort = new AbortController();
    const load = () =>
      getJson<RolloutsResponse>('/v1/rollouts', { key, signal: abort.signal })
        .then((d) => (setData(d), setError(null), setRefusal(undefined)))
        .catch((e: Error) => {
          if (abort.signal.aborted) return;
          if (e instanceof ApiError && e.isRefusal) setRefusal(e.message);
          else setError(e.message);
        });
    void load();
    const timer = setInterval(load, POLL_MS);
    return () => (abort.abort(), clearInterval(timer));
  }, [key, tick]);

  if (!key || refusal)
    return html`<${KeyGate} view="The rollouts view (admin key)" refusal=${refusal} onKey=${setKey} />`;
  if (!data)
    return error ? html`<p class="refused" role="alert">${error}</p>` : html`<p>Loading rollouts…</p>`;
  const running = data.rollouts.filter((r) => r.state === 'running');
  const finished = data.rollouts.filter((r) => r.state !== 'running');
  const act = async (id: string, action: 'promote' | 'abort') => {
    setBusy(true);
    try {
      await postJson(`/v1/rollouts/${id}/${action}`, {
        key,
        body: { reason: `${action === 'promote' ? 'promoted' : 'aborted'} from the dashboard` },
      });
      setError(null);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
      setTick((t) => t + 1);
    }
  };
  return html`<div class="rollouts" data-testid="rollouts-view">
    <header class="view-head">
      <h1>Model rollouts</h1>
      <span class="live live-live" role="status">refreshed every ${POLL_MS / 1000} s</span>
      <button class="link" onClick=${() => setKey(undefined)}>Forget key</button>
    </header>
    ${error ? html`<p class="refused" role="alert">${error}</p>` : null}
    <div class="grid">
      ${
        running.length
          ? running.map(
              (r) =>
                html`<${RunningRollout}
                  key=${r.id}
                  rollout=${r}
                  busy=${busy}
                  onAction=${(a: 'promote' | 'abort') => act(r.id, a)}
                />`,
            )
          : html`<${Card}
              title="Running rollouts"
              id="running-title"
              wide=${true}
              empty="No rollout is running. Start one with POST /v1/rollouts (admin key)."
            />`
      }
      <${FinishedRollouts} rollouts=${finished} />
      <${Card}
        title="Version policies"
        id="policies-title"
        empty=${data.policies.length ? null : 'Every model serves any version its nodes announce (policy “all”).'}
      >
        <table data-testid="version-policies">
          <thead>
            <tr>
              <th scope="col">Model</th>
              <th scope="col">Serves</th>
              <th scope="col">Withdrawn</th>
              <th scope="col">Since</th>
            </tr>
          </thead>
          <tbody>
            ${data.policies.map(
              (p) =>
                html`<tr key=${p.model}>
                  <td>${p.model}</td>
                  <td>${p.mode === 'specific' ? html`<code>${p.version}</code>` : p.mode}</td>
                  <td>${p.withdrawn.join(', ') || '—'}</td>
                  <td>${time(p.updatedAtMs)}</td>
                </tr>`,
            )}
          </tbody>
        </table>
      <//>
    </div>
  </div>`;
}
