/**
 * The sampled request stream: a Poisson process at the peak rate, thinned to each stream's diurnal
 * curve at the client's local solar hour; each admitted request gets its stream, place, model and
 * whether it asks for hedging.
 */
import type { LatLng } from '@hexedge/protocol';
import { exponential, pickWeighted, type Rng } from './random.ts';
import type { SampledRequest } from './requests.ts';
import { localSolarHour, MAX_ACTIVITY, MODELS, STREAMS } from './world.ts';

export class Arrivals {
  readonly #rand: Rng;
  readonly #sample: () => LatLng;
  /** Mean gap between candidate arrivals at peak activity, ms. */
  readonly #peakGapMs: number;
  readonly #epochMs: number;

  constructor(o: { rand: Rng; sample: () => LatLng; sampledPerMs: number; epochMs: number }) {
    this.#rand = o.rand;
    this.#sample = o.sample;
    this.#peakGapMs = 1 / (o.sampledPerMs * MAX_ACTIVITY);
    this.#epochMs = o.epochMs;
  }

  nextGapMs(): number {
    return exponential(this.#rand, this.#peakGapMs);
  }

  /** The request arriving now, or undefined when thinning drops it (the diurnal rate is below peak). */
  draw(nowMs: number): SampledRequest | undefined {
    const rand = this.#rand;
    const stream = pickWeighted(rand, STREAMS);
    const at = this.#sample();
    if (rand() * MAX_ACTIVITY >= stream.activity(localSolarHour(nowMs, at.lng))) return undefined;
    const wanted = pickWeighted(rand, stream.models).model;
    const model = MODELS.find((m) => m.name === wanted)!;
    const hedge = stream.hedgeShare > 0 && rand() < stream.hedgeShare;
    return { at, stream, model, hedge, hour: Math.floor((nowMs - this.#epochMs) / 3_600_000) };
  }
}
