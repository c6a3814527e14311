import type { InputSpec } from '../registry/profile-schema.ts';
import { getNumber, getPath } from './field-path.ts';

/** An OIP request tensor as JSON (the infer request body carries plain arrays). */
export interface TensorJson {
  name: string;
  datatype: 'FP32' | 'FP64';
  shape: number[];
  data: number[];
}

export type BuiltInput =
  | { status: 'ready'; inputs: TensorJson[] }
  | { status: 'ready'; input: unknown }
  | { status: 'buffering'; haveReadings: number; needReadings: number; note?: string }
  | { status: 'invalid'; reason: string };

type VectorWindow = { kind: 'vectors'; vectors: number[][] };
type ReadingWindow = { kind: 'readings'; readings: { timeMs: number; values: Record<string, number> }[] };
type Window =
  | VectorWindow
  | ReadingWindow
  | { kind: 'burst'; capture: number; nextFragment: number; axes: Record<string, number[]> };

/** What one payload contributes, read before anything is kept, so a bad payload changes no window. */
type Extracted =
  | { kind: 'vector'; vector: number[] }
  | { kind: 'values'; values: Record<string, number> }
  | { kind: 'fragment'; capture: number; fragment: number; chunk: Record<string, number[]> };

/** One payload to map: the decoded payload, or one measurement of a normalized payload. */
export interface InputPayload {
  payload: Record<string, unknown>;
  timeMs: number;
}

/**
 * Turns decoded payloads into a model input. Time-series inputs keep a per-device window (the last
 * N readings, or the fragments of one sample burst); the bridge holds one InputBuilder per process.
 */
export class InputBuilder {
  readonly #windows = new Map<string, Window>();

  /** Forget a device's window (rejoin, profile change). */
  reset(devEui: string): void {
    this.#windows.delete(devEui);
  }

  build(options: {
    devEui: string;
    spec: InputSpec;
    decoded: Record<string, unknown>;
    timeMs: number;
  }): BuiltInput {
    return this.buildSeries({
      devEui: options.devEui,
      spec: options.spec,
      payloads: [{ payload: options.decoded, timeMs: options.timeMs }],
    });
  }

  /**
   * Several payloads of one uplink in order (a normalized payload's measurements): all are read first
   * and a bad one changes nothing; then each enters the window, and the last one's state is the answer.
   */
  buildSeries(options: {
    devEui: string;
    spec: InputSpec;
    payloads: InputPayload[];
    /** How a reason names payload `index` ('normalized measurement 2'); default 'decoded payload'. */
    what?: (index: number) => string;
  }): BuiltInput {
    const { devEui, spec, payloads } = options;
    const extracted: Extracted[] = [];
    for (const [i, p] of payloads.entries()) {
      const e = this.#extract(spec, p.payload, options.what?.(i) ?? 'decoded payload');
      if (typeof e === 'string') return { status: 'invalid', reason: e };
      extracted.push(e);
    }
    let built: BuiltInput = { status: 'invalid', reason: 'no payload to map' };
    for (const [i, e] of extracted.entries()) built = this.#apply(devEui, spec, e, payloads[i]!.timeMs);
    return built;
  }

  #extract(spec: InputSpec, decoded: Record<string, unknown>, what: string): Extracted | string {
    switch (spec.kind) {
      case 'tensor': {
        const vector: number[] = [];
        for (const f of spec.fields) {
          const v = getNumber(decoded, f.path, what);
          if (typeof v === 'string') return v;
          let x = v * f.scale + f.add;
          if (f.normalize)
            x =
              'mean' in f.normalize
                ? (x - f.normalize.mean) / f.normalize.std
                : (x - f.normalize.min) / (f.normalize.max - f.normalize.min);
          vector.push(x);
        }
        return { kind: 'vector', vector };
      }
      case 'reading-window': {
        const values: Record<string, number> = {};
        for (const [name, path] of Object.entries(spec.fields)) {
          const v = getNumber(decoded, path, what);
          if (typeof v === 'string') return v;
          values[name] = v;
        }
        return { kind: 'values', values };
      }
      case 'sample-burst': {
        const capture = getNumber(decoded, spec.captureField, what);
        const fragment = getNumber(decoded, spec.fragmentField, what);
        if (typeof capture === 'string') return capture;
        if (typeof fragment === 'string') return fragment;
        const chunk: Record<string, number[]> = {};
        for (const [axis, path] of Object.entries(spec.axes)) {
          const v = getPath(decoded, path);
          if (!Array.isArray(v) || !v.every((x) => typeof x === 'number' && Number.isFinite(x)))
            return `field '${path}' must be an array of finite numbers`;
          chunk[axis] = v as number[];
        }
        const sizes = new Set(Object.values(chunk).map((a) => a.length));
        if (sizes.size !== 1) return `axes of one fragment differ in length (${[...sizes].join(', ')})`;
        return { kind: 'fragment', capture, fragment, chunk };
      }
    }
  }

  #apply(devEui: string, spec: InputSpec, e: Extracted, timeMs: number): BuiltInput {
    if (spec.kind === 'tensor' && e.kind === 'vector') {
      const { vector } = e;
      if (spec.windowReadings === undefined) {
        return {
          status: 'ready',
          inputs: [{ name: spec.name, datatype: spec.datatype, shape: [1, vector.length], data: vector }],
        };
      }
      const w = this.#window<VectorWindow>(devEui, { kind: 'vectors', vectors: [] });
      w.vectors.push(vector);
      if (w.vectors.length > spec.windowReadings) w.vectors.shift();
      if (w.vectors.length < spec.windowReadings)
        return { status: 'buffering', haveReadings: w.vectors.length, needReadings: spec.windowReadings };
      return {
        status: 'ready',
        inputs: [
          {
            name: spec.name,
            datatype: spec.datatype,
            shape: [1, spec.windowReadings, vector.length],
            data: w.vectors.flat(),
          },
        ],
      };
    }
    if (spec.kind === 'reading-window' && e.kind === 'values') {
      const w = this.#window<ReadingWindow>(devEui, { kind: 'readings', readings: [] });
      const last = w.readings.at(-1);
      let note: string | undefined;
      const maxGapMs = spec.maxGapIntervals * spec.readingIntervalS * 1000;
      if (last && (timeMs <= last.timeMs || timeMs - last.timeMs > maxGapMs)) {
        note = `window restarted: ${Math.round((timeMs - last.timeMs) / 1000)} s since the last reading (interval ${spec.readingIntervalS} s)`;
        w.readings.length = 0;
      }
      w.readings.push({ timeMs, values: e.values });
      if (w.readings.length > spec.readings) w.readings.shift();
      if (w.readings.length < spec.readings) {
        return {
          status: 'buffering',
          haveReadings: w.readings.length,
          needReadings: spec.readings,
          ...(note ? { note } : {}),
        };
      }
      return {
        status: 'ready',
        input: { readingIntervalS: spec.readingIntervalS, readings: w.readings.map((r) => r.values) },
      };
    }
    if (spec.kind === 'sample-burst' && e.kind === 'fragment') return this.#burst(devEui, spec, e);
    return { status: 'invalid', reason: `internal: ${e.kind} for a ${spec.kind} input` };
  }

  #burst(
    devEui: string,
    spec: Extract<InputSpec, { kind: 'sample-burst' }>,
    e: Extract<Extracted, { kind: 'fragment' }>,
  ): BuiltInput {
    const { capture, fragment, chunk } = e;
    let w = this.#windows.get(devEui);
    let note: string | undefined;
    if (fragment === 0 || w?.kind !== 'burst' || w.capture !== capture || w.nextFragment !== fragment) {
      // A fragment out of order means a lost uplink: samples either side of the gap are not contiguous.
      if (fragment !== 0) {
        this.#windows.delete(devEui);
        return {
          status: 'buffering',
          haveReadings: 0,
          needReadings: spec.samples,
          note: `fragment ${fragment} of capture ${capture} arrived without its predecessors; waiting for the next capture`,
        };
      }
      if (w?.kind === 'burst' && w.nextFragment > 0) note = `capture ${w.capture} abandoned incomplete`;
      w = {
        kind: 'burst',
        capture,
        nextFragment: 0,
        axes: Object.fromEntries(Object.keys(spec.axes).map((a) => [a, []])),
      };
      this.#windows.set(devEui, w);
    }
    for (const [axis, values] of Object.entries(chunk)) w.axes[axis]!.push(...values);
    w.nextFragment++;
    const have = Object.values(w.axes)[0]!.length;
    if (have < spec.samples)
      return {
        status: 'buffering',
        haveReadings: have,
        needReadings: spec.samples,
        ...(note ? { note } : {}),
      };
    this.#windows.delete(devEui);
    if (have > spec.samples)
      return {
        status: 'invalid',
        reason: `capture ${capture} has ${have} samples, more than the ${spec.samples} the model takes`,
      };
    return { status: 'ready', input: { sampleRateHz: spec.sampleRateHz, [spec.axesKey]: w.axes } };
  }

  #window<W extends Window>(devEui: string, empty: W): W {
    const w = this.#windows.get(devEui);
    if (w?.kind === empty.kind) return w as W;
    this.#windows.set(devEui, empty);
    return empty;
  }
}
