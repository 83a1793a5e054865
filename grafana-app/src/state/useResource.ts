import { DependencyList, useEffect, useState } from 'react';

import { isAbort } from '../api/client';

export interface Resource<T> {
  data?: T;
  error?: unknown;
  loading: boolean;
}

/**
 * Runs a request whenever deps change, aborting the one before; keeps the
 * last data while the next loads (no flashing), drops it on an error.
 */
export function useResource<T>(fn: ((signal: AbortSignal) => Promise<T>) | null, deps: DependencyList): Resource<T> {
  const [state, setState] = useState<Resource<T>>({ loading: fn !== null });
  useEffect(() => {
    if (fn === null) {
      setState({ loading: false });
      return;
    }
    const ctl = new AbortController();
    setState((s) => ({ data: s.data, loading: true }));
    fn(ctl.signal).then(
      (data) => !ctl.signal.aborted && setState({ data, loading: false }),
      (error) => !ctl.signal.aborted && !isAbort(error) && setState({ error, loading: false })
    );
    return () => ctl.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  return state;
}
