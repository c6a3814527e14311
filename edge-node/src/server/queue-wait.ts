/**
 * How a model's scheduler waits a fraction of a millisecond for company (its queue delay). Node rounds
 * every timer up to 1 ms, so without help a sub-millisecond wait re-checks on each turn of the event
 * loop (setImmediate, what the scheduler does when no waiter is installed): the loop then never blocks, and a node under light load spins a core for the
 * whole delay of every lone request. On Node the listener installs a waiter timed on a thread
 * (node/thread-timer.ts) that lets the loop sleep in epoll until a request or the timer arrives.
 */
/** Calls `fire` once, no sooner than `delayUs` from now; the function it returns cancels. */
export type QueueWaiter = (delayUs: number, fire: () => void) => () => void;

let defaultWaiter: QueueWaiter | undefined;

/** The waiter schedulers use when their options name none (set once by the Node listener). */
export function useQueueWaiter(waiter: QueueWaiter): void {
  defaultWaiter = waiter;
}

export function getQueueWaiter(): QueueWaiter | undefined {
  return defaultWaiter;
}
