/**
 * Waits until `probe` returns a truthy value (vitest's `vi.waitFor`, which retries on a falsy value or
 * a throw) and returns it; after `timeoutMs` fails with what was awaited. The positive marker tests
 * wait on instead of sleeping.
 */
export async function waitUntil<T>(
  what: string,
  probe: () => T | Promise<T>,
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<Exclude<T, false | null | undefined | 0 | ''>> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  // Imported when used, so scripts that use the kit's process helpers (the load test) need no test runner.
  const { vi } = await import('vitest');
  try {
    return (await vi.waitFor(
      async () => {
        const value = await probe();
        if (!value) throw new Error(`not yet: ${what}`);
        return value;
      },
      { timeout: timeoutMs, interval: options.intervalMs ?? 50 },
    )) as Exclude<T, false | null | undefined | 0 | ''>;
  } catch (err) {
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${(err as Error).message})`);
  }
}

/** Paces a loop (a request rate, a retry). Never a settle before a negative assertion: wait on a positive marker instead. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
