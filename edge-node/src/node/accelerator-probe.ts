/**
 * Which accelerated execution providers open a session on this machine. Each candidate whose
 * prerequisites are present (its provider library beside the addon, a Vulkan loader for WebGPU on
 * Linux) is probed by opening a tiny session on it, in a child process: GPU drivers print to stderr
 * from native code and can crash outright, and neither may reach the node's own log or process.
 */
import type { ExecutionProvider } from '@hexedge/protocol';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/** onnxruntime-node's names for our execution providers. */
export const ORT_EP_NAME: Partial<Record<ExecutionProvider, string>> = {
  cuda: 'cuda',
  tensorrt: 'tensorrt',
  webgpu: 'webgpu',
  qnn: 'qnn',
  coreml: 'coreml',
  cpu: 'cpu',
};

export interface ProbeResult {
  found: ExecutionProvider[];
  /** Each accelerator that is not usable here and why, in one short phrase. */
  unavailable: { ep: ExecutionProvider; reason: string }[];
}

const PROBE_TIMEOUT_MS = 30_000;

/** Why an accelerator cannot even be tried here, or undefined when a probe may find it. */
export function missingPrerequisite(ep: ExecutionProvider): string | undefined {
  if (!ORT_EP_NAME[ep]) return 'not an onnxruntime-node provider';
  if (ep === 'coreml') return process.platform === 'darwin' ? undefined : 'macOS only';
  // Dawn drives Vulkan on Linux; D3D12 and Metal are part of Windows and macOS.
  if (ep === 'webgpu')
    return process.platform !== 'linux' || vulkanLoaderPresent()
      ? undefined
      : 'no Vulkan loader (libvulkan.so.1)';
  return providerLibraryPresent(ep) ? undefined : `no provider library (libonnxruntime_providers_${ep})`;
}

/** Probes the candidates, best first; those without their prerequisites are not started at all. */
export async function probeAccelerators(candidates: readonly ExecutionProvider[]): Promise<ProbeResult> {
  const result: ProbeResult = { found: [], unavailable: [] };
  const toProbe: ExecutionProvider[] = [];
  for (const ep of candidates) {
    const missing = missingPrerequisite(ep);
    if (missing) result.unavailable.push({ ep, reason: missing });
    else toProbe.push(ep);
  }
  if (toProbe.length === 0) return result;
  const answers = await runProbeProcess(toProbe);
  for (const ep of toProbe) {
    const answer = answers[ep];
    if (answer === 'ok') result.found.push(ep);
    else result.unavailable.push({ ep, reason: answer ?? 'the probe gave no answer' });
  }
  result.unavailable.sort((a, b) => candidates.indexOf(a.ep) - candidates.indexOf(b.ep));
  return result;
}

function runProbeProcess(
  eps: readonly ExecutionProvider[],
): Promise<Partial<Record<ExecutionProvider, string>>> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [import.meta.filename, ...eps],
      { timeout: PROBE_TIMEOUT_MS, maxBuffer: 1 << 20 },
      (err, stdout, stderr) => {
        const line = stdout.split('\n').find((l) => l.startsWith('{'));
        if (!line) {
          const why = err
            ? `probe process failed: ${firstLine(stderr) || err.message}`
            : 'probe process gave no answer';
          resolve(Object.fromEntries(eps.map((ep) => [ep, why])));
          return;
        }
        const answers = JSON.parse(line) as Record<string, string>;
        // Dawn says why it rejected an adapter only on stderr ("Warning: Vulkan … required."): keep that line.
        const dawn = stderr
          .split('\n')
          .find((l) => l.startsWith('Warning:'))
          ?.replace(/^Warning:\s*/, '')
          .trim();
        if (dawn && answers.webgpu && answers.webgpu !== 'ok') answers.webgpu += ` (Dawn: ${dawn})`;
        resolve(answers);
      },
    );
  });
}

const firstLine = (s: string) => s.trim().split('\n')[0] ?? '';

/** ORT's message without its source location prefix, shortened to its last clause. */
function shortReason(message: string): string {
  const m = message.replace(/\s+/g, ' ').trim();
  const cut = m.lastIndexOf(' was false. ');
  return (cut >= 0 ? m.slice(cut + ' was false. '.length) : m).slice(0, 300);
}

function providerLibraryPresent(ep: ExecutionProvider): boolean {
  const addon = createRequire(import.meta.url).resolve('onnxruntime-node');
  const binDir = path.join(path.dirname(addon), '..', 'bin', 'napi-v6', process.platform, process.arch);
  const ext = process.platform === 'win32' ? 'dll' : 'so';
  const prefix = process.platform === 'win32' ? '' : 'lib';
  return existsSync(path.join(binDir, `${prefix}onnxruntime_providers_${ep}.${ext}`));
}

/** The dynamic loader would find libvulkan.so.1: in its cache or on LD_LIBRARY_PATH. */
function vulkanLoaderPresent(): boolean {
  const dirs = (process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean);
  if (dirs.some((d) => existsSync(path.join(d, 'libvulkan.so.1')))) return true;
  try {
    return readFileSync('/etc/ld.so.cache').includes('libvulkan.so.1');
  } catch {
    return false;
  }
}

/** The child: opens a session on each named provider alone and prints `{ ep: 'ok' | reason }`. */
async function probeMain(eps: string[]): Promise<void> {
  const { default: ort } = await import('onnxruntime-node');
  const { buildComfortIndexModel } = await import('../models/comfort-index.ts');
  const model = buildComfortIndexModel();
  const answers: Record<string, string> = {};
  for (const ep of eps) {
    try {
      const session = await ort.InferenceSession.create(model, {
        executionProviders: [ORT_EP_NAME[ep as ExecutionProvider]!],
        logSeverityLevel: 4,
      });
      await session.release();
      answers[ep] = 'ok';
    } catch (err) {
      answers[ep] = shortReason((err as Error).message);
    }
  }
  console.log(JSON.stringify(answers));
}

if (process.argv[1] === import.meta.filename) await probeMain(process.argv.slice(2));
