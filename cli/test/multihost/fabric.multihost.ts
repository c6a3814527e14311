import { FIBER_KM_PER_MS, ROUTE_STRETCH } from '@hexedge/placement';
import { optedOut, recordSkip } from '@hexedge/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chirpstackUplinkJson, encodeLpp } from '@hexedge/firmware-bridge';
import { ADMIN_KEY, CHALLENGE_INTERVAL_MS, DEVICE, GATEWAY_MQTT_PASSWORD, MODEL } from './configs.ts';
import { Fabric } from './fabric.ts';
import { cutServingHost } from './measure-failover.ts';
import { watchLocationProofs } from './measure-oracle.ts';
import { measureRoundTrips, routeCallers, type Nearest } from './measure-routes.ts';
import { preflightProblem, SKIP_ENV } from './netns.ts';
import { writeReport, type MultihostReport } from './report.ts';
import { inferBody } from './requests.ts';
import {
  CITIES,
  oneWayDelayMs,
  PER_HOP_MS,
  ROUTER_HOPS,
  round3,
  STACK_RTT_MS,
  verifiedWithinKmFor,
} from './world.ts';

/**
 * HexEdge on an emulated multi-host network (README.md beside this file): every service in its own
 * network namespace at its own address, started with the operators' commands and config files; every
 * frame between hosts delayed by the great-circle distance of their cities. Checks what one machine
 * cannot: round trips, routing by them, latency proofs of location, failover when a host's link is cut.
 * A new scenario is one more `it(...)` on the same fabric (GATEWAY_EXTRA_YAML for gateway config).
 */

/** Extra gateway.yaml lines (the gateway's `mqtt:` already runs the firmware bridge on ChirpStack's topics). */
const GATEWAY_EXTRA_YAML: string[] = [];
/** Requests per caller in the routing check. */
const REQUESTS_PER_CALLER = 6;
/** How much slower than the fastest the geographic nearest may measure: the switch is a user-space
 * process on a shared machine (its frame lateness reaches a few ms at worst, see `switch` in the report). */
const SWITCH_JITTER_MS = 1;
/** The failover check's request deadline (policy.deadlineMs). */
const FAILOVER_DEADLINE_MS = 3_000;
/** How long the oracle has to verify every honest node and find the liar's claim impossible. */
const LOCATION_TIMEOUT_MS = 80_000; // within the test's 90 s

const problem = preflightProblem();
// Opted out either way: HEXEDGE_SKIP_MULTIHOST=1, or HEXEDGE_SKIP_REAL_PARTS naming netns (as for every real part).
const skipped = problem !== undefined && (process.env[SKIP_ENV] === '1' || optedOut('netns'));
const report: MultihostReport = { generatedAt: new Date().toISOString() };
if (skipped) {
  report.skipped = {
    reason: `${problem}; skipped because ${process.env[SKIP_ENV] === '1' ? `${SKIP_ENV}=1` : 'HEXEDGE_SKIP_REAL_PARTS=netns'}`,
  };
  writeReport(report);
  recordSkip({ part: 'netns', reason: report.skipped.reason, testFile: import.meta.filename });
  console.warn(`multi-host fabric SKIPPED: ${report.skipped.reason}`);
}

describe.skipIf(skipped)('multi-host fabric: real round trips between emulated cities', () => {
  let fabric: Fabric;
  /** Each caller's nearest node by measured round trip (first check), for the routing check. */
  let nearest: Nearest;
  /** Each caller's nearest node by great-circle distance (first check). */
  let nearestByDistance: Map<string, string>;

  beforeAll(async () => {
    if (problem)
      throw new Error(
        `the multi-host test cannot run here: ${problem}. Run it as root on Linux with iproute2, or set ${SKIP_ENV}=1 to skip it.`,
      );
    fabric = new Fabric();
    try {
      await fabric.build({ gatewayExtraYaml: GATEWAY_EXTRA_YAML });
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${fabric.logs()}`);
    }
    report.setupMs = Math.round(fabric.setupMs);
    report.hosts = fabric.hosts.map((h) => ({
      key: h.key,
      role: h.role,
      city: h.city,
      ...(h.claim ? { claim: h.claim } : {}),
      address: h.address,
    }));
    report.delayModel = {
      oneWayMs: 'ROUTER_HOPS × PER_HOP_MS + greatCircleKm × ROUTE_STRETCH / FIBER_KM_PER_MS',
      fiberKmPerMs: round3(FIBER_KM_PER_MS),
      routeStretch: ROUTE_STRETCH,
      routerHops: ROUTER_HOPS,
      perHopMs: PER_HOP_MS,
      stackRttAllowanceMs: STACK_RTT_MS,
    };
  }, 180_000);

  afterAll(async () => {
    if (fabric?.switch)
      report.switch = await fabric.switch.stats().catch((err: Error) => ({ error: err.message }));
    // Nothing to report when the machine could not run it (beforeAll said why).
    if (fabric) writeReport(report);
    await fabric?.teardown();
  }, 60_000);

  it('measures round trips that follow the emulated great-circle paths, never faster', async () => {
    const measured = await measureRoundTrips(fabric);
    nearest = measured.nearest;
    report.roundTrips = measured.rows.map(({ from, to, distanceKm, emulatedRttMs, measuredRttMs }) => ({
      from,
      to,
      distanceKm,
      emulatedRttMs,
      measuredRttMs,
    }));
    // Physics: the switch holds every frame for its path's delay, so nothing is faster than the map.
    for (const r of measured.rows)
      expect(r.measuredRttMs, `${r.from} → ${r.to}`).toBeGreaterThanOrEqual(r.emulatedRttMs - 0.001);
    // And the measured order agrees with the map: each caller's nearest node by distance is also its
    // fastest by round trip, within the user-space switch's scheduling jitter (Wiesbaden has Mainz at
    // 10 km and Frankfurt at 38 km: a 0.3 ms difference in emulated round trip, near that jitter).
    nearestByDistance = measured.nearestByDistance;
    for (const [caller, best] of nearest) {
      const geographic = measured.rows.find(
        (r) => r.caller === caller && r.key === nearestByDistance.get(caller),
      )!;
      expect(
        geographic.measuredRttMs,
        `nearest to ${fabric.host(caller).city} (${geographic.key})`,
      ).toBeLessThanOrEqual(best.rttMs + SWITCH_JITTER_MS);
    }
  });

  it('verifies the honest nodes by latency proofs and rejects the node whose claim is 1,450 km from where its round trips put it', async () => {
    const { rows, waitedMs } = await watchLocationProofs(fabric, { timeoutMs: LOCATION_TIMEOUT_MS });
    report.location = {
      verifiedWithinKm: verifiedWithinKmFor(fabric.hosts),
      challengeIntervalMs: CHALLENGE_INTERVAL_MS,
      waitedMs,
      rows,
    };
    const liar = rows.find((r) => r.node === 'liar')!;
    expect(liar).toMatchObject({
      status: 'impossible',
      reason: 'CLAIM_OUTSIDE_BOUND',
      gatewayVerified: false,
      verifiedUncertaintyKm: null,
    });
    // Where its round trips put it: the oracle's estimate is ≥ 1,000 km from the claim, and several
    // times nearer Cologne than Madrid (the first window's estimate is coarse: a few hundred km).
    expect(liar.estimateToClaimKm).toBeGreaterThanOrEqual(1_000);
    expect(liar.estimateToTrueKm!).toBeLessThan(liar.estimateToClaimKm! / 3);
    for (const row of rows.filter((r) => r !== liar)) {
      expect(row.gatewayVerified, `${row.node} verified at the gateway`).toBe(true);
      expect(row.verifiedUncertaintyKm, `${row.node} verified by the oracle`).not.toBeNull();
      expect(row.status, `${row.node} not found impossible`).not.toBe('impossible');
    }
  }, 90_000);

  it('ranks nodes by claims as the round trips do, and never serves a caller who asks for verified nodes from the liar', async () => {
    const routed = await routeCallers(fabric, { nearest, requests: REQUESTS_PER_CALLER });
    report.routing = routed.figures;
    expect(routed.failures).toEqual([]);
    // Claims and the map agree: for every honest caller, placement's nearest is the nearest by distance
    // (which the first check found to be the fastest by round trip, within the switch's jitter).
    for (const r of routed.plain)
      expect(r.nearestByClaims, `placement's nearest to ${r.caller}`).toBe(
        nearestByDistance.get(fabric.hosts.find((h) => h.city === r.caller)!.key),
      );
    // The liar's claim puts it first for Madrid, whose nearest node by round trip is Milan.
    expect(routed.attacked).toMatchObject({ nearest: 'mil', nearestByClaims: 'liar' });
    // Asking for trusted nodes (which needs a verified location) keeps it out.
    expect(routed.guarded.servedBy.liar ?? 0).toBe(0);
    const listed = await fabric.listNodes();
    for (const key of Object.keys(routed.guarded.servedBy))
      expect(listed.find((n) => n.id === fabric.node(key).nodeId)?.locationVerified, `${key} verified`).toBe(
        true,
      );
  });

  it('answers an MQTT v5 request from a device through Mosquitto, no faster than its path', async () => {
    const monza = fabric.host('mon');
    const res = await fabric
      .agent('mon')
      .call<{ connectMs: number; elapsedMs: number; body: { node?: { id: string }; error?: unknown } }>(
        'mqttRequest',
        {
          url: fabric.url.broker,
          deviceId: DEVICE.id,
          password: DEVICE.password,
          model: MODEL.name,
          body: { location: CITIES[monza.city], inputs: inferBody(CITIES[monza.city]).inputs },
          timeoutMs: 10_000,
        },
      );
    expect(res.body.error).toBeUndefined();
    const servedBy = fabric.nodes.find((n) => n.nodeId === res.body.node?.id);
    expect(servedBy, JSON.stringify(res.body)).toBeDefined();
    // device → broker → gateway → node and back: three round trips at least.
    const at = (key: string) => CITIES[fabric.host(key).city];
    const pathLowerBoundMs =
      2 *
      (oneWayDelayMs(at('mon'), at('mq')) +
        oneWayDelayMs(at('mq'), at('gw')) +
        oneWayDelayMs(at('gw'), CITIES[servedBy!.host.city]));
    report.mqtt = {
      from: monza.city,
      servedBy: servedBy!.host.key,
      connectMs: round3(res.connectMs),
      requestMs: round3(res.elapsedMs),
      pathLowerBoundMs: round3(pathLowerBoundMs),
    };
    expect(res.elapsedMs).toBeGreaterThanOrEqual(pathLowerBoundMs);
  });

  it("carries a LoRaWAN uplink to a downlink through the deployable gateway's firmware bridge", async () => {
    const monza = fabric.host('mon');
    const devEui = 'a84041000000e001';
    const applicationId = 'a1b2c3d4-0000-4000-8000-00000000e001';
    const admin = (path: string, body: unknown) =>
      fabric.agent('mon').call<{ status: number; body: unknown }>('fetch', {
        url: `${fabric.url.gateway}${path}`,
        method: 'PUT',
        headers: { authorization: `Bearer ${ADMIN_KEY}` },
        body,
      });
    // The fleet operator registers the device and its profile through the gateway's HTTP API.
    const profile = {
      id: 'monza-room',
      codec: { kind: 'lpp' },
      model: MODEL.name,
      input: {
        kind: 'tensor',
        name: 'readings',
        fields: [{ path: 'temperature_1' }, { path: 'relative_humidity_2' }, { path: 'concentration_3' }],
      },
      output: { labels: ['comfortable', 'too_warm', 'stuffy'], tensor: 'probabilities' },
      downlink: { fPort: 10, encoding: { kind: 'label-confidence' }, fallback: { kind: 'class-index' } },
      location: { fixed: CITIES[monza.city] },
    };
    expect((await admin(`/v1/profiles/${profile.id}`, profile)).status).toBe(201);
    expect(
      (await admin(`/v1/devices/${devEui}`, { devEui, fleet: 'multihost', profile: profile.id })).status,
    ).toBe(201);
    const event = chirpstackUplinkJson({
      deduplicationId: 'multihost-lorawan-1',
      timeMs: Date.now(),
      applicationId,
      devEui,
      fCnt: 1,
      fPort: 85,
      data: encodeLpp({ temperature_1: 29.5, relative_humidity_2: 62, concentration_3: 1450 }).data!,
      dr: 5,
      regionConfigId: 'eu868',
      receptions: [{ gatewayId: '0016c001f153a14c', rssiDbm: -80, snrDb: 6, location: CITIES[monza.city] }],
    });
    // ChirpStack's integration runs beside the device's LoRa gateway in Monza.
    const res = await fabric
      .agent('mon')
      .call<{ elapsedMs: number; command: { devEui: string; fPort: number; data: string } }>(
        'chirpstackUplink',
        {
          url: fabric.url.broker,
          username: 'hexedge-gateway',
          password: GATEWAY_MQTT_PASSWORD,
          applicationId,
          devEui,
          event,
          timeoutMs: 15_000,
        },
      );
    expect(res.command).toMatchObject({ devEui, fPort: 10 });
    const payload = [...Buffer.from(res.command.data, 'base64')];
    expect(payload).toHaveLength(2); // class index and confidence %
    // uplink → broker → gateway's bridge → a node and back down: three round trips at least.
    const at = (key: string) => CITIES[fabric.host(key).city];
    const nearestNodeMs = Math.min(...fabric.nodes.map((n) => oneWayDelayMs(at('gw'), CITIES[n.host.city])));
    const pathLowerBoundMs =
      2 * (oneWayDelayMs(at('mon'), at('mq')) + oneWayDelayMs(at('mq'), at('gw')) + nearestNodeMs);
    report.lorawan = {
      from: monza.city,
      uplinkToDownlinkMs: round3(res.elapsedMs),
      pathLowerBoundMs: round3(pathLowerBoundMs),
      fPort: res.command.fPort,
      payloadBytes: payload.length,
    };
    expect(res.elapsedMs).toBeGreaterThanOrEqual(pathLowerBoundMs);
  });

  it('fails over within the request deadline when the serving host’s link is cut', async () => {
    // The scenario needs a request to meet the silent host; placement sometimes moves the caller to
    // another node before any does (seen in 2 of ~10 runs: none of 41–49 requests after the cut
    // tried it). Then nothing failed over and the cut is repeated (the link is back and the node
    // healthy again in between), at most three times; the tries are in the report.
    let run = await cutServingHost(fabric, { callerKey: 'off', deadlineMs: FAILOVER_DEADLINE_MS });
    let tries = 1;
    while (run.figures.failedOver === 0 && tries < 3) {
      run = await cutServingHost(fabric, { callerKey: 'off', deadlineMs: FAILOVER_DEADLINE_MS });
      tries++;
    }
    const { cut, after, figures } = run;
    report.failover = { ...figures, tries };
    // Every request after the cut is answered within its deadline, none by the cut host; at least one
    // went to the silent host first and was failed over (its trace at the gateway shows the failed attempt).
    expect(after.filter((r) => r.status !== 200)).toEqual([]);
    expect(after.filter((r) => r.node === cut.key)).toEqual([]);
    expect(figures.failedOver, 'requests that tried the cut host first').toBeGreaterThanOrEqual(1);
    expect(figures.slowestAfterCutMs).toBeLessThan(FAILOVER_DEADLINE_MS);
    expect(figures.unhealthyAfterMs, 'the gateway marks the cut host unhealthy').toBeGreaterThan(0);
  }, 150_000);
});
