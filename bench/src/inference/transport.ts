/**
 * Binary tensor data extension vs OIP JSON for one PP-OCR recognition input, [1, 3, 48, 320] FP32
 * (46 080 values, 184 320 bytes raw), at three depths:
 *  1. in process, no sockets: client encode → wire bytes → the server's own decode and validation
 *     (readInferBody's steps: JSON.parse or parseBinaryBody, the OIP request schema, checkInputs);
 *  2. over HTTP up to validation, no model run: the request asks for an output the model does not have,
 *     which the node checks right after validating the inputs and answers with a small 400, so the time
 *     is client encode + HTTP + server read/decode/validate + a small answer;
 *  3. end to end over HTTP: the model runs and its output [1, 40, 6625] FP32 comes back in the same
 *     encoding as the input (JSON numbers, or binary with binary_data_output), decoded by the client.
 */
import { checkInputs, parseBinaryBody, rgbToRecData, type LoadedModel, type ModelManifest } from '@hexedge/edge-node';
import { oipInferenceRequestSchema, parseWith, tensorFromBytes, tensorToBytes, type Tensor } from '@hexedge/protocol';
import { openPool, postOnce } from './http-load.ts';
import type { NodeProcess } from './node-process.ts';
import { interleave, median, pairRow, soloRow, timeEach, type InferenceRow } from './rounds.ts';

const HEADER_LENGTH = 'inference-header-content-length';
const NO_SUCH_OUTPUT = 'bench-no-such-output';
const SPEEDUP_GOAL = { text: '≥5× faster', met: (ratio: number) => ratio >= 5 };
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A synthetic printed line (dark strokes on paper, 240 × 36 px) through the pipeline's own resize/normalise. */
export function textLineTensor(): Tensor {
  const widthPx = 240;
  const heightPx = 36;
  const rgb = new Uint8Array(widthPx * heightPx * 3);
  for (let y = 0; y < heightPx; y++) {
    for (let x = 0; x < widthPx; x++) {
      const glyph = y > 6 && y < 30 && x % 14 < 9 && (x % 14 < 2 || x % 14 > 6 || y % 11 < 3);
      const level = glyph ? 30 + ((x * 7 + y * 13) % 40) : 215 + ((x * 5 + y * 3) % 30);
      rgb.set([level, level - 4, level - 9], (y * widthPx + x) * 3);
    }
  }
  return { name: 'x', datatype: 'FP32', shape: [1, 3, 48, 320], data: rgbToRecData({ widthPx, heightPx, rgb }) };
}

interface Encoded {
  body: Uint8Array;
  headers: Record<string, string>;
}

function encodeJson(t: Tensor, extra: Record<string, unknown> = {}): Encoded {
  const body = JSON.stringify({ inputs: [{ name: t.name, datatype: t.datatype, shape: t.shape, data: Array.from(t.data as Float32Array) }], ...extra });
  return { body: encoder.encode(body), headers: { 'content-type': 'application/json' } };
}

function encodeBinary(t: Tensor, extra: Record<string, unknown> = {}): Encoded {
  const bytes = tensorToBytes(t);
  const header = encoder.encode(JSON.stringify({ inputs: [{ name: t.name, datatype: t.datatype, shape: t.shape, parameters: { binary_data_size: bytes.length } }], ...extra }));
  const body = new Uint8Array(header.length + bytes.length);
  body.set(header);
  body.set(bytes, header.length);
  return { body, headers: { 'content-type': 'application/octet-stream', [HEADER_LENGTH]: String(header.length) } };
}

/** The node's decode and validation of an infer body (oip-app.ts readInferBody + schema + checkInputs). */
function serverDecode(manifest: ModelManifest, e: Encoded): Tensor[] {
  const headerLength = e.headers[HEADER_LENGTH];
  const { json, binaryInputs } = headerLength !== undefined ? parseBinaryBody(e.body, headerLength) : { json: JSON.parse(decoder.decode(e.body)) as unknown, binaryInputs: new Map<string, Tensor>() };
  const request = parseWith(oipInferenceRequestSchema, json, { what: 'inference request' });
  return checkInputs({ model: manifest.name, specs: manifest.inputs, inputs: request.inputs.map((i) => binaryInputs.get(i.name) ?? i) });
}

/** The client's decode of an infer answer: the first output's values. */
function clientDecode(r: { headers: Record<string, string | string[] | undefined>; body: Uint8Array }): ArrayLike<number> {
  const headerLength = r.headers[HEADER_LENGTH];
  if (headerLength === undefined) return (JSON.parse(decoder.decode(r.body)) as { outputs: { data: number[] }[] }).outputs[0]!.data;
  const n = Number(headerLength);
  const head = JSON.parse(decoder.decode(r.body.subarray(0, n))) as { outputs: { name: string; shape: number[]; parameters: { binary_data_size: number } }[] };
  const out = head.outputs[0]!;
  return tensorFromBytes({ name: out.name, datatype: 'FP32', shape: out.shape }, r.body.subarray(n, n + out.parameters.binary_data_size)).data as Float32Array;
}

export async function transportRows(options: { node: NodeProcess; ppocr: LoadedModel; quick: boolean }): Promise<InferenceRow[]> {
  const { node, ppocr, quick } = options;
  const manifest = ppocr.manifest;
  const tensor = textLineTensor();
  const rows: InferenceRow[] = [];
  const perRound = quick ? 5 : 15;
  const rounds = quick ? 5 : 9;
  const kb = (e: Encoded) => (e.body.length / 1024).toFixed(0);
  const sizes = `JSON ${kb(encodeJson(tensor))} KiB, binary ${kb(encodeBinary(tensor))} KiB`;

  // 1. In process: encode + decode + validate, and the server's share alone.
  const jsonBody = encodeJson(tensor);
  const binaryBody = encodeBinary(tensor);
  const inProcess = await interleave({
    rounds,
    peers: {
      json: async () => median(await timeEach(perRound, async () => serverDecode(manifest, encodeJson(tensor)))),
      binary: async () => median(await timeEach(perRound, async () => serverDecode(manifest, encodeBinary(tensor)))),
      jsonServer: async () => median(await timeEach(perRound, async () => serverDecode(manifest, jsonBody))),
      binaryServer: async () => median(await timeEach(perRound, async () => serverDecode(manifest, binaryBody))),
    },
  });
  const name = 'ppocr 1×3×48×320 FP32';
  rows.push(pairRow({ name: `${name}: encode+decode+validate in process, binary`, unit: 'ms', value: inProcess.binary, anchor: 'JSON', anchorValue: inProcess.json, better: 'lower', goal: SPEEDUP_GOAL }));
  rows.push(pairRow({ name: `${name}: server decode+validate only, binary`, unit: 'ms', value: inProcess.binaryServer, anchor: 'JSON', anchorValue: inProcess.jsonServer, better: 'lower' }));

  // 2 and 3. Over HTTP, one keep-alive connection.
  const pool = openPool(node.url, 1);
  const path = `/v2/models/${manifest.name}/versions/${manifest.version}/infer`;
  const upToValidation = (encode: (t: Tensor, extra: Record<string, unknown>) => Encoded) => async () =>
    median(
      await timeEach(perRound, async () => {
        const e = encode(tensor, { outputs: [{ name: NO_SUCH_OUTPUT }] });
        const r = await postOnce({ pool, path, ...e });
        // The node validated the inputs and then refused the output name: anything else is a bench bug.
        if (r.status !== 400 || !decoder.decode(r.body).includes(NO_SUCH_OUTPUT)) throw new Error(`unexpected answer ${r.status}: ${decoder.decode(r.body).slice(0, 200)}`);
      }),
    );
  const http = await interleave({ rounds, peers: { json: upToValidation(encodeJson), binary: upToValidation(encodeBinary) } });
  rows.push(pairRow({ name: `${name}: HTTP encode→validated, no model run, binary`, unit: 'ms', value: http.binary, anchor: 'JSON', anchorValue: http.json, better: 'lower', goal: SPEEDUP_GOAL }));

  const endToEnd = (encode: (t: Tensor, extra: Record<string, unknown>) => Encoded, extra: Record<string, unknown>) => async () =>
    median(
      await timeEach(quick ? 2 : 4, async () => {
        const r = await postOnce({ pool, path, ...encode(tensor, extra) });
        if (r.status !== 200) throw new Error(`infer answered ${r.status}: ${decoder.decode(r.body).slice(0, 200)}`);
        if (clientDecode(r).length !== 40 * 6625) throw new Error('ppocr output has the wrong size');
      }),
    );
  const e2e = await interleave({
    rounds: quick ? 3 : 5,
    peers: {
      json: endToEnd(encodeJson, {}),
      binary: endToEnd(encodeBinary, { parameters: { binary_data_output: true } }),
      run: async () => median(await timeEach(quick ? 2 : 4, () => ppocr.run([tensor]))),
    },
  });
  await pool.close();
  rows.push(pairRow({ name: `${name}: HTTP infer end to end (outputs 1×40×6625 same encoding), binary`, unit: 'ms', value: e2e.binary, anchor: 'JSON', anchorValue: e2e.json, better: 'lower' }));
  rows.push(pairRow({ name: `${name}: HTTP end to end minus session.run, binary`, unit: 'ms', value: e2e.binary.map((v, i) => v - e2e.run[i]!), anchor: 'JSON', anchorValue: e2e.json.map((v, i) => v - e2e.run[i]!), better: 'lower' }));
  rows.push(soloRow({ name: `${name}: session.run in process (context; ${sizes})`, unit: 'ms', value: e2e.run }));
  return rows;
}
