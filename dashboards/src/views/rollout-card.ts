import { html } from 'htm/preact';
import { Card } from '../components/common.ts';
import { ms, pct, time } from '../components/format.ts';
import type { Rollout, VersionStats } from '../rollout-types.ts';

const versionRow = (label: string, version: string, s: VersionStats) =>
  html`<tr data-role=${label}>
    <th scope="row">${label} <code>${version}</code></th>
    <td>${s.answers}</td>
    <td>${s.errors} (${pct(s.errorRate)})</td>
    <td>${ms(s.p50Ms)}</td>
    <td>${ms(s.p95Ms)}</td>
  </tr>`;

/**
 * One running rollout: the two versions side by side over the judging window, the comparisons and
 * the thresholds they are judged against, what the judge is waiting for, and promote/abort buttons.
 */
export function RunningRollout(props: {
  rollout: Rollout;
  busy: boolean;
  onAction: (action: 'promote' | 'abort') => void;
}) {
  const r = props.rollout;
  const live = r.live!;
  const t = r.thresholds;
  const c = live.candidate;
  const windowS = Math.round(t.windowMs / 1000);
  const failures = Object.entries(live.errorCodes.candidate ?? {});
  // Sentences as strings: htm drops the whitespace at line breaks that a formatter puts in markup.
  const summary = `canary ${r.canary.percent}% by ${r.canary.by}${r.canary.include.length ? ` (+${r.canary.include.length} named)` : ''} on ≤ ${pct(r.canary.nodeShare)} of the nodes, shadow ${r.shadow.percent}% of requests · started ${time(r.createdAtMs)}`;
  const judgedBy = `p95 ≤ baseline × ${t.maxP95Ratio} + ${t.p95SlackMs} ms${t.maxP95Ms ? `, ≤ ${t.maxP95Ms} ms` : ''}; judged from ${t.minSamples} answers / ${t.minComparisons} comparisons`;
  return html`<${Card}
    title=${`${r.model}: ${r.baseline} → ${r.candidate}`}
    id=${`rollout-${r.id}`}
    wide=${true}
  >
    <div data-testid="running-rollout" data-rollout=${r.id}>
      <p><span class="badge badge-running">running</span> ${summary} · <code class="muted">${r.id}</code></p>
      <table data-testid="rollout-versions">
        <caption>
          Last ${windowS} s
        </caption>
        <thead>
          <tr>
            <th scope="col">Version</th>
            <th scope="col">Answers</th>
            <th scope="col">Errors</th>
            <th scope="col">p50</th>
            <th scope="col">p95</th>
          </tr>
        </thead>
        <tbody>
          ${versionRow('candidate', r.candidate, c)}${versionRow('baseline', r.baseline, live.baseline)}
        </tbody>
      </table>
      <dl class="stats">
        <div class="stat">
          <dt>Compared (mirrors)</dt>
          <dd data-testid="rollout-compared">
            ${c.compared} · ${c.diverged} diverged (${pct(c.divergenceRate)})
          </dd>
          <small
            >${`tolerance ${live.tolerance}; largest difference ${c.maxDifference === null ? '—' : c.maxDifference.toPrecision(3)}`}</small
          >
        </div>
        <div class="stat">
          <dt>Mirrors</dt>
          <dd>${live.mirrorsInFlight} in flight · ${live.mirrorsShed} shed</dd>
          <small>at most ${r.shadow.maxInFlight} at once</small>
        </div>
        <div class="stat">
          <dt>Canary fallbacks</dt>
          <dd>${live.fallbacks}</dd>
          <small>${live.unavailable} without a candidate node yet</small>
        </div>
        <div class="stat">
          <dt>Thresholds</dt>
          <dd>errors ≤ ${pct(t.maxErrorRate)} · divergence ≤ ${pct(t.maxDivergenceRate)}</dd>
          <small>${judgedBy}</small>
        </div>
      </dl>
      ${failures.length ? html`<p class="warn">Candidate failures: ${failures.map(([code, n]) => `${code} × ${n}`).join(', ')}</p>` : null}
      <p data-testid="rollout-verdict">
        ${live.verdict.action === 'hold' ? `Judge: ${live.verdict.waiting}` : `Judge: ${live.verdict.action} — ${live.verdict.reason}`}
      </p>
      <div class="toolbar">
        <button disabled=${props.busy} onClick=${() => props.onAction('promote')}>
          Promote ${r.candidate}
        </button>
        <button disabled=${props.busy} onClick=${() => props.onAction('abort')}>
          Abort (roll back to ${r.baseline})
        </button>
        ${r.promotion.auto ? html`<span class="hint">Promotes by itself after ${Math.round(r.promotion.afterMs / 1000)} s healthy, ${r.promotion.minSamples} answers, ${r.promotion.minComparisons} comparisons</span>` : html`<span class="hint">Automatic promotion off</span>`}
      </div>
    </div>
  <//>`;
}

/** Finished rollouts, newest first: how each ended, who decided, and how long it took from the candidate's first answer. */
export function FinishedRollouts(props: { rollouts: Rollout[] }) {
  return html`<${Card}
    title="Finished rollouts"
    id="finished-title"
    wide=${true}
    empty=${props.rollouts.length ? null : 'No rollout has finished yet.'}
  >
    <div class="table-scroll">
      <table data-testid="finished-rollouts">
        <thead>
          <tr>
            <th scope="col">Model</th>
            <th scope="col">Versions</th>
            <th scope="col">Outcome</th>
            <th scope="col">Decided</th>
            <th scope="col">Time to decision</th>
            <th scope="col">Why</th>
          </tr>
        </thead>
        <tbody>
          ${props.rollouts.map(
            (r) =>
              html`<tr key=${r.id} data-rollout=${r.id}>
                <td>${r.model}</td>
                <td><code>${r.baseline}</code> → <code>${r.candidate}</code></td>
                <td><span class=${`badge badge-${r.state}`}>${r.state}</span></td>
                <td>
                  ${r.decidedBy === 'auto' ? 'automatically' : 'by an admin'} at ${time(r.endedAtMs ?? 0)}
                </td>
                <td data-testid="time-to-decision">
                  ${r.timeToDecisionMs === undefined ? '—' : `${(r.timeToDecisionMs / 1000).toFixed(1)} s`}
                </td>
                <td>${r.reason}</td>
              </tr>`,
          )}
        </tbody>
      </table>
    </div>
  <//>`;
}
