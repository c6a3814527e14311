/** Adversary mode's figures as rows `{name, value, unit, anchor, anchorValue, ratio, goal, met}`, goals from issue 16. */
import { parseOracleConfig } from '@hexedge/coverage-oracle';
import { scaleLabel } from '../rows.ts';
import { SIM_EPOCH_MS } from '../simulation.ts';
import type { BenchRow } from '../table.ts';
import type { AdversaryMetrics } from './adversary-metrics.ts';
import type { AdversaryReport } from './run-adversaries.ts';

const row = (r: Partial<BenchRow> & Pick<BenchRow, 'name' | 'value' | 'unit'>): BenchRow => ({
  anchor: null,
  anchorValue: null,
  ratio: null,
  goal: null,
  met: null,
  ...r,
});
const pct = (part: number, whole: number) => (whole > 0 ? (100 * part) / whole : Number.NaN);
const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);
const total = (m: Map<unknown, number>) => sum([...m.values()]);

/** Goals of issue 16's part 6, in one place (the quick test asserts the rows that carry them). */
export const GOALS = {
  honestSlashed: 0,
  honestShareWithinPct: 2,
  dishonestShareAfterHourPct: 0.1,
  detectionPct: 99.9,
  verificationSharePct: 3,
} as const;

export function served(m: AdversaryMetrics, fromHour = 0) {
  const hours = m.hourly.slice(fromHour);
  return {
    served: sum(hours.map((h) => h.served)),
    byHonest: sum(hours.map((h) => h.byHonest)),
    dishonest: sum(hours.map((h) => h.dishonest)),
    wrong: sum(hours.map((h) => h.wrongAnswers)),
  };
}

export function adversaryRows(report: AdversaryReport): BenchRow[] {
  const { adversarial: adv, baseline: base, options: o } = report;
  const world = adv.adversary!;
  const m = world.metrics;
  const bm = base.adversary!.metrics;
  const label = `@${scaleLabel(o.nodes)} ${o.hours}h ${Math.round(o.share * 100)}% sybils`;
  const rows: BenchRow[] = [];
  const isHonest = new Map(adv.nodes.map((n) => [n.id, n.role === undefined]));

  const slashed = new Set(world.oracle.ledger.slashes().map((s) => s.nodeId));
  const honestSlashed = [...slashed].filter((id) => isHonest.get(id)).length;
  rows.push(
    row({
      name: `honest nodes slashed ${label}`,
      value: honestSlashed,
      unit: 'nodes',
      anchor: 'sybils slashed',
      anchorValue: slashed.size - honestSlashed,
      goal: '0',
      met: honestSlashed === GOALS.honestSlashed,
    }),
  );

  const a = served(m);
  const b = served(bm);
  const advShare = pct(a.byHonest, a.served);
  const baseShare = pct(b.byHonest, b.served);
  rows.push(
    row({
      name: `honest nodes' share of traffic ${label}`,
      value: advShare,
      unit: '%',
      anchor: 'run without adversaries',
      anchorValue: baseShare,
      ratio: advShare / baseShare,
      goal: `within ${GOALS.honestShareWithinPct}% of the run without`,
      met: baseShare - advShare <= GOALS.honestShareWithinPct,
    }),
  );
  const advHonest = sum(m.epochs.map((e) => Number(e.honestBaseUnits)));
  const advAll = sum(m.epochs.map((e) => Number(e.honestBaseUnits + e.sybilBaseUnits)));
  const baseHonest = sum(bm.epochs.map((e) => Number(e.honestBaseUnits)));
  const baseAll = sum(bm.epochs.map((e) => Number(e.honestBaseUnits + e.sybilBaseUnits)));
  rows.push(
    row({
      name: `attacker's nodes answering right from where they are: share of traffic ${label}`,
      value: pct(a.served - a.byHonest - a.dishonest, a.served),
      unit: '%',
      anchor: "honest nodes' share lost to the run without adversaries",
      anchorValue: baseShare - advShare,
    }),
  );
  const advReward = pct(advHonest, advAll);
  const baseReward = pct(baseHonest, baseAll);
  rows.push(
    row({
      name: `honest nodes' share of rewards ${label}`,
      value: advReward,
      unit: '%',
      anchor: 'run without adversaries',
      anchorValue: baseReward,
      ratio: advReward / baseReward,
      goal: `within ${GOALS.honestShareWithinPct}% of the run without`,
      met: baseReward - advReward <= GOALS.honestShareWithinPct,
    }),
  );
  rows.push(
    row({
      name: `honest nodes' rewards, base units ${label}`,
      value: advHonest,
      unit: 'base units',
      anchor: 'run without adversaries',
      anchorValue: baseHonest,
      ratio: advHonest / baseHonest,
    }),
  );

  const first = served(m, 0);
  const hour1 = m.hourly[0] ?? { served: 0, dishonest: 0 };
  const after = served(m, 1);
  const afterShare = pct(after.dishonest, after.served);
  rows.push(
    row({
      name: `dishonest nodes' traffic share, first hour ${label}`,
      value: pct(hour1.dishonest, hour1.served),
      unit: '%',
      anchor: 'sybil share of identities',
      anchorValue: 100 * o.share,
    }),
  );
  rows.push(
    row({
      name: `dishonest nodes' traffic share after one hour ${label}`,
      value: afterShare,
      unit: '%',
      anchor: 'requests served after hour 1',
      anchorValue: after.served,
      goal: `<${GOALS.dishonestShareAfterHourPct}%`,
      met: afterShare < GOALS.dishonestShareAfterHourPct,
    }),
  );
  const later = m.epochs.slice(1);
  const laterAll = sum(later.map((e) => Number(e.honestBaseUnits + e.sybilBaseUnits)));
  const laterDishonest = pct(sum(later.map((e) => Number(e.dishonestBaseUnits))), laterAll);
  const epoch1 = m.epochs[0];
  rows.push(
    row({
      name: `dishonest nodes' share of rewards after one hour ${label}`,
      value: laterDishonest,
      unit: '%',
      anchor: 'first epoch (hour)',
      anchorValue: epoch1
        ? pct(Number(epoch1.dishonestBaseUnits), Number(epoch1.honestBaseUnits + epoch1.sybilBaseUnits))
        : null,
      goal: `<${GOALS.dishonestShareAfterHourPct}%`,
      met: laterDishonest < GOALS.dishonestShareAfterHourPct,
    }),
  );
  rows.push(
    row({
      name: `wrong answers after one hour ${label}`,
      value: pct(after.wrong, after.served),
      unit: '%',
      anchor: 'first hour',
      anchorValue: pct(first.wrong - after.wrong, hour1.served),
    }),
  );

  for (const d of report.detection) {
    const at = `a node serving ${d.requestsPerEpoch} requests/epoch`;
    if (d.guess) {
      // The guesser gives up the cheats its guess marks sampled; the oracle's secret seed makes that worthless.
      rows.push(
        row({
          name: `1% cheater honest where it guesses a spot check (last published seed) detected within one epoch, measured (${at}) ${label}`,
          value: pct(d.detected, d.cheaters),
          unit: '%',
          anchor: `computed for a plain cheater (cheats it gave up where it guessed a check: ${d.guessedSampled})`,
          anchorValue: 100 * d.computed,
          ratio: d.detected / d.cheaters / d.computed,
        }),
      );
      continue;
    }
    rows.push(
      row({
        name: `1% cheater detected within one epoch, computed (${at}) ${label}`,
        value: 100 * d.computed,
        unit: '%',
        anchor: 'P(convicted | sampled)',
        anchorValue: d.convictionGivenSampled,
        goal: `≥${GOALS.detectionPct}%`,
        met: 100 * d.computed >= GOALS.detectionPct,
      }),
    );
    rows.push(
      row({
        name: `1% cheater detected within one epoch, measured with isSampled (${at}) ${label}`,
        value: pct(d.detected, d.cheaters),
        unit: '%',
        anchor: `computed, ${d.cheaters} cheaters`,
        anchorValue: 100 * d.computed,
        ratio: d.detected / d.cheaters / d.computed,
      }),
    );
  }
  const d0 = report.detection[0];
  if (d0)
    rows.push(
      row({
        name: `requests/epoch a 1% cheater must serve for ${GOALS.detectionPct}% detection ${label}`,
        value: d0.requestsForGoal,
        unit: 'requests',
        anchor: "world's mean per node",
        anchorValue: d0.requestsPerEpoch,
      }),
    );
  const cheat1 = adv.nodes.filter((n) => n.role === 'cheat1');
  const epochMs = world.oracle.config.epochMs;
  // Those that started serving at least an epoch before the run ended, so their epoch is observed whole.
  const runEndMs = SIM_EPOCH_MS + o.hours * 3_600_000;
  const judged = cheat1.filter((n) => (m.firstServedAtMs.get(n.id) ?? Infinity) + epochMs <= runEndMs);
  const inEpoch = judged.filter(
    (n) => (m.firstConvictedAtMs.get(n.id) ?? Infinity) - m.firstServedAtMs.get(n.id)! <= epochMs,
  ).length;
  rows.push(
    row({
      name: `1% cheaters in the run convicted within one epoch of first serving ${label}`,
      value: pct(inEpoch, judged.length),
      unit: '%',
      anchor: 'cheat1 sybils that served',
      anchorValue: judged.length,
    }),
  );

  const share = pct(m.verificationRuns, m.inferenceRuns);
  const cfg = world.oracle.config;
  const defaults = parseOracleConfig({});
  const configLabel = `sampling ${cfg.samplingRate}, ${cfg.checkersPerSample} checker(s), audits ${cfg.refereeAuditRate}`;
  rows.push(
    row({
      name: `verification compute / inference compute (${configLabel}) ${label}`,
      value: share,
      unit: '%',
      anchor: 'model runs served',
      anchorValue: m.inferenceRuns,
      goal: `≤${GOALS.verificationSharePct}%`,
      met: share <= GOALS.verificationSharePct,
    }),
  );
  // The oracle's defaults spend checkers + audits on every sample; disputes add the referee (measured above,
  // where the run uses the defaults: the same figure, computed, next to a run given --oracle-config).
  const defaultShare = 100 * defaults.samplingRate * (defaults.checkersPerSample + defaults.refereeAuditRate);
  rows.push(
    row({
      name: `verification compute / inference compute at the oracle's defaults, computed (sampling ${defaults.samplingRate}, ${defaults.checkersPerSample} checkers, audits ${defaults.refereeAuditRate}) ${label}`,
      value: defaultShare,
      unit: '%',
      anchor: 'p × (checkers + audit share), disputes left out',
      anchorValue: null,
      goal: `≤${GOALS.verificationSharePct}%`,
      met: defaultShare <= GOALS.verificationSharePct,
    }),
  );
  rows.push(
    row({
      name: `spot checks through the real decision / counted ${label}`,
      value: m.realChecks,
      unit: 'checks',
      anchor: 'counted',
      anchorValue: m.countedChecks,
    }),
  );

  const evictTotal = total(m.evictReports);
  rows.push(
    row({
      name: `evict: unsolicited sybil reports refused by ingest ${label}`,
      value: pct(evictTotal - (m.evictReports.get('accepted') ?? 0), evictTotal),
      unit: '%',
      anchor: [...m.evictReports].map(([k, v]) => `${k} ${v}`).join(', ') || 'none sent',
      anchorValue: evictTotal,
      goal: '100%',
      met: (m.evictReports.get('accepted') ?? 0) === 0,
    }),
  );
  const honestRounds = total(m.honestLocation);
  rows.push(
    row({
      name: `evict: honest claims judged impossible ${label}`,
      value: m.honestLocation.get('impossible') ?? 0,
      unit: 'windows',
      anchor: 'honest location windows',
      anchorValue: honestRounds,
    }),
  );
  rows.push(
    row({
      name: `evict: credible "not answered" about honest nodes that were up ${label}`,
      value: m.falseDownReports,
      unit: 'reports',
      anchor: 'honest location windows',
      anchorValue: honestRounds,
    }),
  );
  rows.push(
    row({
      name: `evict: sleepers contradicted by the majority (standing lost) ${label}`,
      value: m.contradicted.get('sleeper') ?? 0,
      unit: 'verdicts',
      anchor: 'honest challengers contradicted',
      anchorValue: m.contradicted.get('honest') ?? 0,
    }),
  );
  rows.push(
    row({
      name: `frame: honest nodes convicted ${label}`,
      value: m.convictions.get('honest') ?? 0,
      unit: 'convictions',
      anchor: 'frame attempts (a sleeper drawn on an honest sample)',
      anchorValue: m.frameAttempts,
      goal: '0',
      met: (m.convictions.get('honest') ?? 0) === 0,
    }),
  );
  rows.push(
    row({
      name: `frame/collude: sleeper checkers convicted by the referee ${label}`,
      value: m.checkerFrauds.get('sleeper') ?? 0,
      unit: 'convictions',
      anchor: 'honest checkers convicted',
      anchorValue: m.checkerFrauds.get('honest') ?? 0,
    }),
  );
  rows.push(
    row({
      name: `grind: sleeper share of checker slots on ground receipts ${label}`,
      value: pct(m.grindRealSleeperSlots, m.grindSlots),
      unit: '%',
      anchor: 'by the seed the grinder could know',
      anchorValue: pct(m.grindGuessSleeperSlots, m.grinds * world.oracle.config.checkersPerSample),
      ratio:
        pct(m.sleeperSlots, m.checkerSlots) > 0
          ? pct(m.grindRealSleeperSlots, m.grindSlots) / pct(m.sleeperSlots, m.checkerSlots)
          : null,
    }),
  );
  rows.push(
    row({
      name: `collude: cheated samples passed by an all-sleeper draw ${label}`,
      value: m.collusionPasses,
      unit: 'samples',
      anchor: 'sleeper share of all checker slots (%)',
      anchorValue: pct(m.sleeperSlots, m.checkerSlots),
    }),
  );
  rows.push(
    row({
      name: `sticky: moved sybils marked verified at a place they are not at ${label}`,
      value: m.stickyVerifiedElsewhere,
      unit: 'observations',
      anchor: `moves (second moves refused: ${m.stickyMovesRefused}${m.stickyCases.size ? `; ${m.stickyCases.size} sybils, up to ${Math.round(Math.max(...[...m.stickyCases.values()].map((c) => c.offByKm)))} km off` : ''})`,
      anchorValue: m.stickyMoves,
      goal: '0',
      met: m.stickyVerifiedElsewhere === 0,
    }),
  );
  rows.push(
    row({
      name: `relay: walks that met a relay, all refused by the node it relayed to ${label}`,
      value: adv.metrics.failover.relay.hit,
      unit: 'requests',
      anchor: `served within the deadline after (the honest node's checkForward answers a relayed request: ${world.relayRefusalReason || 'not tried'})`,
      anchorValue: adv.metrics.failover.relay.served,
    }),
  );
  const earned = sum(m.epochs.map((e) => Number(e.washEarnedBaseUnits)));
  const fees = sum(m.epochs.map((e) => Number(e.washFeesBaseUnits)));
  rows.push(
    row({
      name: `wash: rewards earned − fees paid ${label}`,
      value: earned - fees,
      unit: 'base units',
      anchor: `fees paid (self-paid requests: ${m.washRequests}, own node served ${m.washServedByOwn})`,
      anchorValue: fees,
      goal: '≤0',
      met: earned - fees <= 0,
    }),
  );
  for (const [name, ms] of [
    ['adversarial run', report.wallMs.adversarial],
    ['run without adversaries', report.wallMs.baseline],
    ['detection measurement', report.wallMs.detection],
  ] as const)
    rows.push(row({ name: `wall clock: ${name} ${label}`, value: ms / 1000, unit: 's' }));
  return rows;
}
