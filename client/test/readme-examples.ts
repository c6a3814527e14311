import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** The fenced TypeScript blocks of a markdown file, in order. */
export async function typescriptBlocks(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8');
  return [...text.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

/**
 * Runs one block as a reader would (`node example.ts`), from a scratch folder inside the client
 * package: `@hexedge/client` resolves through the workspace as it does for any app depending on it.
 */
export async function runBlock(options: { code: string; env: Record<string, string>; timeoutMs: number }) {
  const dir = await mkdtemp(path.resolve(import.meta.dirname, '../.readme-run-'));
  const file = path.join(dir, 'example.ts');
  await writeFile(file, options.code);
  try {
    return await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [file],
        { env: { ...process.env, ...options.env }, timeout: options.timeoutMs },
        (err, stdout, stderr) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
