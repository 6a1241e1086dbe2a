import { useCallback, useEffect, useState } from 'react';
import { ApiError } from './api';

/** Loads now and every `everyMs` (bounded by the page's life); errors are kept beside the last data. */
export function usePoll<T>(load: () => Promise<T>, everyMs: number, deps: unknown[]): { data: T | undefined; error: string | null; reload: () => void } {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const run = useCallback(load, deps);
  useEffect(() => {
    let alive = true;
    const once = () =>
      run()
        .then((d) => alive && (setData(d), setError(null)))
        .catch((err: unknown) => alive && setError(err instanceof ApiError ? err.error.message : String(err)));
    void once();
    const t = setInterval(() => void once(), everyMs);
    return () => {
      alive = false;
      clearInterval(t);
    };
  }, [run, everyMs, tick]);
  return { data, error, reload: () => setTick((n) => n + 1) };
}
