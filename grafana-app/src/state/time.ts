import { dateMath, dateTime, DateTime, TimeRange } from '@grafana/data';

/** Reads a from/to of the URL (Unix ms, RFC 3339 or now-1h) as a moment. */
function parseEdge(raw: string, roundUp: boolean): DateTime | undefined {
  if (/^\d+$/.test(raw)) {
    return dateTime(Number(raw));
  }
  const d = dateMath.parse(raw, roundUp);
  return d && d.isValid() ? d : undefined;
}

/** The Grafana TimeRange of URL from/to; the raw values stay as typed. */
export function toTimeRange(from: string, to: string): TimeRange {
  const f = parseEdge(from, false) ?? dateTime().subtract(1, 'hour');
  const t = parseEdge(to, true) ?? dateTime();
  return { from: f, to: t, raw: { from, to } };
}

/** The URL values of a TimeRange picked in the picker: relative stays relative, absolute becomes ms. */
export function fromTimeRange(r: TimeRange): { from: string; to: string } {
  const edge = (raw: string | DateTime, d: DateTime) => (typeof raw === 'string' && raw.includes('now') ? raw : String(d.valueOf()));
  return { from: edge(r.raw.from, r.from), to: edge(r.raw.to, r.to) };
}

/** One window back (dir -1) or forward (+1), as absolute ms. */
export function shiftRange(r: TimeRange, dir: -1 | 1): { from: string; to: string } {
  const from = r.from.valueOf();
  const to = r.to.valueOf();
  const span = to - from;
  return { from: String(from + dir * span), to: String(to + dir * span) };
}

/** Twice as wide around the same middle (the picker's zoom out). */
export function zoomOut(r: TimeRange): { from: string; to: string } {
  const from = r.from.valueOf();
  const to = r.to.valueOf();
  const span = to - from;
  return { from: String(Math.round(from - span / 2)), to: String(Math.round(to + span / 2)) };
}

/** A record's time (Unix ns as text) as ms. */
export function nsToMs(ns: string | undefined): number {
  if (!ns) {
    return 0;
  }
  // ns fits no JS number exactly; ms does.
  return ns.length > 6 ? Number(ns.slice(0, -6)) : 0;
}

/** A record's time with milliseconds, in the browser's zone: 2026-11-26 10:05:00.500. */
export function formatNs(ns: string | undefined, withDate = true): string {
  if (!ns) {
    return '';
  }
  const ms = nsToMs(ns);
  const d = dateTime(ms);
  return d.format(withDate ? 'YYYY-MM-DD HH:mm:ss.SSS' : 'HH:mm:ss.SSS');
}

/** A duration in ms as text: 850 ms, 12.5 s, 3 min 4 s. */
export function formatDuration(ms: number): string {
  if (ms < 1000) {
    return `${Math.round(ms)} ms`;
  }
  if (ms < 60000) {
    return `${(ms / 1000).toFixed(ms < 10000 ? 1 : 0)} s`;
  }
  const m = Math.floor(ms / 60000);
  const s = Math.round((ms % 60000) / 1000);
  return `${m} min${s ? ` ${s} s` : ''}`;
}
