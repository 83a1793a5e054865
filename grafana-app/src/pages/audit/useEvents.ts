import { useCallback, useEffect, useRef, useState } from 'react';

import { api, isAbort, Scope } from '../../api/client';
import { ActivityRecord } from '../../api/types';

export const PAGE_SIZE = 100;

export interface EventsState {
  records: ActivityRecord[];
  loading: boolean;
  error?: unknown;
  /** More pages after the loaded ones. */
  hasMore: boolean;
  loadMore: () => void;
}

/**
 * The records of a scope, newest first, a page at a time through the
 * backend's cursor (no gaps, no repeats). A new scope starts over.
 */
export function useEvents(scope: Scope, key: string): EventsState {
  const [records, setRecords] = useState<ActivityRecord[]>([]);
  const [loading, setLoading] = useState(true);
  // The scope the shown records belong to: until a new scope's first page
  // arrives, the view is loading.
  const [loadedKey, setLoadedKey] = useState<string>();
  const [error, setError] = useState<unknown>();
  const next = useRef<string | undefined>(undefined);
  const [hasMore, setHasMore] = useState(false);
  const inflight = useRef<AbortController | null>(null);
  const scopeRef = useRef(scope);
  scopeRef.current = scope;

  const fetchPage = useCallback((cursor: string | undefined, reset: boolean, forKey: string) => {
    inflight.current?.abort();
    const ctl = new AbortController();
    inflight.current = ctl;
    setLoading(true);
    if (reset) {
      setError(undefined);
    }
    api.events(scopeRef.current, { limit: PAGE_SIZE, cursor }, ctl.signal).then(
      (ans) => {
        if (ctl.signal.aborted) {
          return;
        }
        next.current = ans.next;
        setHasMore(!!ans.next);
        setRecords((rs) => (reset ? ans.records : [...rs, ...ans.records]));
        setLoadedKey(forKey);
        setLoading(false);
        inflight.current = null;
      },
      (e) => {
        if (ctl.signal.aborted || isAbort(e)) {
          return;
        }
        if (reset) {
          setRecords([]);
          setHasMore(false);
        }
        setError(e);
        setLoadedKey(forKey);
        setLoading(false);
        inflight.current = null;
      }
    );
  }, []);

  useEffect(() => {
    next.current = undefined;
    fetchPage(undefined, true, key);
    return () => inflight.current?.abort();
  }, [key, fetchPage]);
  const keyRef = useRef(key);
  keyRef.current = key;

  const loadMore = useCallback(() => {
    if (inflight.current === null && next.current) {
      fetchPage(next.current, false, keyRef.current);
    }
  }, [fetchPage]);

  return { records, loading: loading || loadedKey !== key, error, hasMore, loadMore };
}
