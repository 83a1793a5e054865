// The audit view's state lives in the URL, as ARCHITECTURE.md "Links" writes it:
//   /a/activityaudit-app/audit?from=<ms|now-…>&to=<ms|now>&filter=<filter>
// plus sources (cmd,net,kube_exec; absent = all), by (workload|container)
// and sel (the record open in the detail view). Back and forward work
// because every change is a history entry; a pasted link opens the same view.

import { ALL_SOURCES, Source } from '../api/types';
import { PLUGIN_BASE_URL, ROUTES } from '../constants';

export type Grouping = 'workload' | 'container';

export const GROUPINGS: Record<Grouping, string[]> = {
  workload: ['namespace', 'workload', 'pod'],
  container: ['host', 'container_id'],
};

export interface AuditState {
  from: string;
  to: string;
  filter: string;
  /** Selected sources; every source when the URL names none. */
  sources: Source[];
  by: Grouping;
  /** Id of the record in the detail view. */
  sel?: string;
}

export const DEFAULT_FROM = 'now-1h';
export const DEFAULT_TO = 'now';

/** Reads the audit view's state from a query string (with or without '?'). */
export function parseAuditState(search: string): AuditState {
  const q = new URLSearchParams(search);
  const sources = (q.get('sources') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s): s is Source => (ALL_SOURCES as string[]).includes(s));
  const by = q.get('by') === 'container' ? 'container' : 'workload';
  return {
    from: q.get('from')?.trim() || DEFAULT_FROM,
    to: q.get('to')?.trim() || DEFAULT_TO,
    filter: q.get('filter') ?? '',
    sources: sources.length === 0 ? [...ALL_SOURCES] : ALL_SOURCES.filter((s) => sources.includes(s)),
    by,
    sel: q.get('sel') || undefined,
  };
}

/** Encodes like Go's url.PathEscape-ish links of pkg/link: spaces as %20, never '+'. */
export function enc(v: string): string {
  return encodeURIComponent(v);
}

/**
 * Writes the query string of an audit state, in the links' order: from, to,
 * filter, then sources (only when not all), by (only when not the
 * default) and sel.
 */
export function auditSearch(s: AuditState): string {
  const parts = [`from=${enc(s.from)}`, `to=${enc(s.to)}`];
  if (s.filter.trim() !== '') {
    parts.push(`filter=${enc(s.filter)}`);
  }
  if (s.sources.length > 0 && s.sources.length < ALL_SOURCES.length) {
    parts.push(`sources=${s.sources.join(',')}`);
  }
  if (s.by !== 'workload') {
    parts.push(`by=${s.by}`);
  }
  if (s.sel) {
    parts.push(`sel=${enc(s.sel)}`);
  }
  return '?' + parts.join('&');
}

export function auditUrl(s: Partial<AuditState> & { from: string; to: string }): string {
  return `${PLUGIN_BASE_URL}/${ROUTES.Audit}${auditSearch({ filter: '', sources: [...ALL_SOURCES], by: 'workload', ...s })}`;
}

export function traceUrl(id: string, from?: string | number, to?: string | number): string {
  const q = from !== undefined && to !== undefined ? `?from=${enc(String(from))}&to=${enc(String(to))}` : '';
  return `${PLUGIN_BASE_URL}/${ROUTES.Trace}/${encodeURIComponent(id).replace(/%3A/gi, ':')}${q}`;
}

/**
 * A link the backend wrote (absolute with the Grafana URL setting, or
 * relative) as a path inside Grafana, for in-app navigation.
 */
export function inAppPath(link: string): string {
  const i = link.indexOf(PLUGIN_BASE_URL + '/');
  return i >= 0 ? link.slice(i) : link;
}
