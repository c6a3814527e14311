import { useEffect, useState } from 'preact/hooks';
import { ApiError } from '../api/client.ts';
import { openEventStream, type StreamEvent, type StreamStatus } from '../api/event-stream.ts';

/**
 * Loading for a keyed view: reads `load(key)` now and whenever `reload` is called, and follows the
 * view's SSE stream. A 401/403 from either becomes `refusal`, which sends the view back to its key gate.
 */
export function useKeyedData<T>(options: { key: string | undefined; load: (key: string, signal: AbortSignal) => Promise<T>; stream: string; onEvent: (e: StreamEvent) => void }) {
  const [data, setData] = useState<T | null>(null);
  const [refusal, setRefusal] = useState<string | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState<StreamStatus>({ state: 'connecting' });
  const [tick, setTick] = useState(0);
  const { key } = options;

  useEffect(() => {
    if (!key) return;
    const abort = new AbortController();
    options
      .load(key, abort.signal)
      .then((d) => (setData(d), setError(null), setRefusal(undefined)))
      .catch((e: Error) => {
        if (abort.signal.aborted) return;
        if (e instanceof ApiError && e.isRefusal) setRefusal(e.message);
        else setError(e.message);
      });
    return () => abort.abort();
  }, [key, tick]);

  useEffect(() => {
    if (!key) return;
    return openEventStream({
      path: options.stream,
      key,
      onStatus: (s) => (setStatus(s), s.state === 'refused' && setRefusal(s.message)),
      onEvent: options.onEvent,
    });
  }, [key]);

  return { data, refusal, error, status, reload: () => setTick((t) => t + 1) };
}
