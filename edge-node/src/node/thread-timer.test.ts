import { afterEach, describe, expect, it, vi } from 'vitest';
import { ThreadTimer } from './thread-timer.ts';

describe('ThreadTimer', () => {
  let timer: ThreadTimer | undefined;
  afterEach(async () => {
    await timer?.close();
    timer = undefined;
  });

  it('fires each wait once, never before its delay, earliest first', async () => {
    timer = new ThreadTimer();
    // The thread starts on the first wait (milliseconds): started first, so the deadlines below are close.
    let started = false;
    timer.wait(2000, () => (started = true));
    await vi.waitFor(() => expect(started).toBe(true), { timeout: 5000 });
    const fired: { name: string; afterMs: number }[] = [];
    const at = (name: string) => {
      const start = performance.now();
      return () => fired.push({ name, afterMs: performance.now() - start });
    };
    // A later deadline armed first, then earlier ones: the earlier must not wait for the later.
    timer.wait(6000, at('6 ms'));
    timer.wait(300, at('0.3 ms'));
    timer.wait(2000, at('2 ms'));
    await vi.waitFor(() => expect(fired).toHaveLength(3), { timeout: 5000 });
    expect(fired.map((f) => f.name)).toEqual(['0.3 ms', '2 ms', '6 ms']);
    expect(fired[0]!.afterMs).toBeGreaterThanOrEqual(0.3);
    expect(fired[1]!.afterMs).toBeGreaterThanOrEqual(2);
    expect(fired[2]!.afterMs).toBeGreaterThanOrEqual(6);
  });

  it('a cancelled wait never fires (a later one does), and the timer serves again after cancels', async () => {
    timer = new ThreadTimer();
    const fired: string[] = [];
    const cancel = timer.wait(200, () => fired.push('cancelled'));
    cancel();
    timer.wait(1500, () => fired.push('kept'));
    await vi.waitFor(() => expect(fired).toContain('kept'), { timeout: 5000 });
    expect(fired).toEqual(['kept']);
    // Everything cancelled (the thread disarmed), then a new wait: still served.
    timer.wait(5000, () => fired.push('dropped'))();
    timer.wait(100, () => fired.push('again'));
    await vi.waitFor(() => expect(fired).toContain('again'), { timeout: 5000 });
    expect(fired).toEqual(['kept', 'again']);
  });
});
