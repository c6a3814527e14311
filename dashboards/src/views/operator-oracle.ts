import { html } from 'htm/preact';
import { Chart } from '../components/chart.ts';
import { Card, Stat } from '../components/common.ts';
import { time } from '../components/format.ts';
import type { OracleReport, Posp } from '../types.ts';

const NO_ORACLE = 'No coverage oracle reports to this gateway yet (hexedge dev runs none), so there is nothing to show — not a clean record.';

function Verdicts(props: { title: string; id: string; verdicts: OracleReport['verdicts'] | undefined; none: string }) {
  const list = props.verdicts;
  return html`<${Card} title=${props.title} id=${props.id} empty=${!list ? NO_ORACLE : list.length ? null : props.none}>
    <table>
      <thead><tr><th scope="col">When</th><th scope="col">Verdict</th><th scope="col">Reason</th></tr></thead>
      <tbody>${(list ?? []).slice(0, 20).map((v) => html`<tr><td>${time(v.atMs)}</td><td class=${`verdict verdict-${v.status}`}>${v.status}</td><td>${v.reason ?? ''}</td></tr>`)}</tbody>
    </table>
  <//>`;
}

/** The proof-of-sampling condition: what a caught cheat loses against what a cheat could gain. */
function Posp(props: { posp: Posp | null | undefined }) {
  const p = props.posp;
  return html`<${Card} title="Why cheating does not pay" id="posp-title" empty=${p ? null : NO_ORACLE}>
    ${p
      ? html`<p class="big" data-testid="posp-holds">${p.holds ? 'Cheating does not pay' : 'Cheating may pay'}</p>
          <p>${p.condition}</p>
          <dl class="stats">
            <${Stat} label="Sampling rate (p)" value=${String(p.samplingRate)} />
            <${Stat} label="Least slash (S)" value=${p.minSlashBaseUnits} hint="base units: slash share of the minimum bond" />
            <${Stat} label="Break-even gain (p × S)" value=${p.breakEvenGainBaseUnits} hint="base units per request" />
            <${Stat} label="Reward per request" value=${p.rewardPerRequestBaseUnits ?? `≤ ${p.requestFeeBaseUnits} (fee)`} hint="last closed epoch" />
            <${Stat} label="Verification compute" value=${p.verification.share === null ? '—' : `${(p.verification.share * 100).toFixed(1)} %`} hint=${`of inference compute, epoch ${p.epoch}`} />
          </dl>`
      : null}
  <//>`;
}

/** Spot checks, location proofs, rewards per epoch, the manifest entry and the PoSP condition: the oracle's part of the page. */
export function OracleSections(props: { oracle: OracleReport | null; posp?: Posp | null }) {
  const o = props.oracle;
  const of = (kind: (k: string) => boolean) => o?.verdicts.filter((v) => kind(v.kind));
  const rewards = o?.rewards ?? [];
  const m = o?.manifestEntry;
  return html`
    <${Verdicts} title="Spot checks" id="spot-title" verdicts=${of((k) => k === 'spot-check')} none="No spot checks of this node yet." />
    <${Verdicts} title="Location proofs" id="loc-title" verdicts=${of((k) => k === 'location')} none="No location challenges of this node yet." />
    <${Card} title="Rewards per epoch" id="rewards-title" empty=${!o ? NO_ORACLE : rewards.length ? null : 'No epoch has rewarded this node yet.'}>
      <${Chart}
        title="Reward (base units) per epoch"
        x=${rewards.map((r) => r.epoch)}
        ys=${[rewards.map((r) => Number(r.amountBaseUnits))]}
        series=${[{ label: 'reward', color: '#21918c', bars: true }]}
        xTime=${false}
        xLabel="epoch"
      />
    <//>
    <${Card} title="Manifest entry and Merkle proof" id="manifest-title" empty=${!o ? NO_ORACLE : m ? null : 'This node is in no signed reward manifest yet.'}>
      ${m
        ? html`<p>Epoch ${m.epoch}, leaf ${m.proof.leafIndex}, root <code>${m.merkleRoot}</code></p>
            <pre class="json">${JSON.stringify(m.entry, null, 2)}</pre>
            <ol class="proof">${m.proof.siblings.map((s) => html`<li><code>${s.position}</code> <code>${s.hash}</code></li>`)}</ol>`
        : null}
    <//>
    <${Posp} posp=${props.posp} />
  `;
}
