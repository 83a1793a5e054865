import { css } from '@emotion/css';
import { useEffect, useMemo, useRef, useState } from 'react';
import { useLocation } from 'react-router-dom';
import { GrafanaTheme2 } from '@grafana/data';
import { locationService, PluginPage } from '@grafana/runtime';
import { Alert, Badge, BadgeColor, Button, LoadingPlaceholder, TimeRangePicker, useStyles2 } from '@grafana/ui';

import { api, isAbort } from '../../api/client';
import { PolicyEvent } from '../../api/types';
import { PLUGIN_BASE_URL, ROUTES } from '../../constants';
import { fromTimeRange, formatNs, shiftRange, toTimeRange, zoomOut } from '../../state/time';
import { enc, inAppPath } from '../../state/url';
import { testIds } from '../../testIds';

const PRIORITY: Record<string, BadgeColor> = {
  emergency: 'red',
  alert: 'red',
  critical: 'red',
  error: 'red',
  warning: 'orange',
  notice: 'blue',
  informational: 'blue',
  info: 'blue',
  debug: 'darkgrey',
};

/**
 * Falco's alerts that Falcosidekick wrote to Loki, newest first, each with
 * an "Activity Audit" button to the audit view of its pod or container ±5
 * minutes (and a Trace button for a kube exec alert with its audit id).
 */
export function PolicyEventsPage() {
  const styles = useStyles2(getStyles);
  const location = useLocation();
  const q = new URLSearchParams(location.search);
  const from = q.get('from') || 'now-24h';
  const to = q.get('to') || 'now';
  const [refresh, setRefresh] = useState(0);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const range = useMemo(() => toTimeRange(from, to), [from, to, refresh]);
  const [events, setEvents] = useState<PolicyEvent[]>([]);
  const [next, setNext] = useState<string>();
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string>();
  const ctl = useRef<AbortController>();

  const load = (cursor?: string) => {
    ctl.current?.abort();
    const c = new AbortController();
    ctl.current = c;
    setLoading(true);
    api.policyEvents({ from: range.from.valueOf(), to: range.to.valueOf() }, { limit: 100, cursor }, c.signal).then(
      (ans) => {
        setEvents((es) => (cursor ? [...es, ...ans.events] : ans.events));
        setNext(ans.next);
        setError(undefined);
        setLoading(false);
      },
      (e) => {
        if (!isAbort(e)) {
          setError(e instanceof Error ? e.message : String(e));
          setLoading(false);
        }
      }
    );
  };
  useEffect(() => {
    setEvents([]);
    load();
    return () => ctl.current?.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [range]);

  const go = (r: { from: string; to: string }) =>
    locationService.push(`${PLUGIN_BASE_URL}/${ROUTES.PolicyEvents}?from=${enc(r.from)}&to=${enc(r.to)}`);

  return (
    <PluginPage>
      <div className={styles.page} data-testid={testIds.policy.page}>
        <div className={styles.toolbar}>
          <div className={styles.spacer} />
          <TimeRangePicker
            value={range}
            timeZone="browser"
            onChange={(r) => go(fromTimeRange(r))}
            onChangeTimeZone={() => undefined}
            onMoveBackward={() => go(shiftRange(range, -1))}
            onMoveForward={() => go(shiftRange(range, 1))}
            onZoom={() => go(zoomOut(range))}
          />
          <Button icon="sync" variant="secondary" onClick={() => setRefresh((n) => n + 1)} aria-label="Refresh" />
        </div>
        {error && (
          <Alert severity="error" title="Policy events">
            {error}
          </Alert>
        )}
        {loading && events.length === 0 && <LoadingPlaceholder text="Reading Falco's alerts…" />}
        {!loading && !error && events.length === 0 && <div className={styles.dim}>No Falco alerts in this range.</div>}
        <div className={styles.list}>
          {events.map((ev) => (
            <EventRow key={ev.id} ev={ev} />
          ))}
        </div>
        {next && (
          <Button variant="secondary" onClick={() => load(next)} disabled={loading}>
            Older alerts
          </Button>
        )}
      </div>
    </PluginPage>
  );
}

function EventRow({ ev }: { ev: PolicyEvent }) {
  const styles = useStyles2(getStyles);
  const where = [ev.namespace, ev.pod, ev.container_name || ev.container_id?.slice(0, 12)].filter(Boolean).join(' / ');
  return (
    <div className={styles.row} data-testid={testIds.policy.row} data-rule={ev.rule}>
      <div className={styles.rowHead}>
        <Badge color={PRIORITY[ev.priority.toLowerCase()] ?? 'blue'} text={ev.priority} />
        <b>{ev.rule}</b>
        <span className={styles.dim}>
          {formatNs(ev.time)} · {ev.source}
          {ev.hostname ? ` · ${ev.hostname}` : ''}
          {where ? ` · ${where}` : ''}
          {ev.k8s_user ? ` · ${ev.k8s_user}` : ''}
        </span>
        <div className={styles.spacer} />
        {ev.activity ? (
          <Button
            size="sm"
            icon="list-ul"
            data-testid={testIds.policy.auditButton}
            tooltip={`${ev.activity.filter}, ±5 minutes`}
            onClick={() => locationService.push(inAppPath(ev.activity!.path))}
          >
            Activity Audit
          </Button>
        ) : (
          <Button size="sm" icon="list-ul" disabled tooltip="The alert names no pod or container">
            Activity Audit
          </Button>
        )}
        {ev.trace && (
          <Button size="sm" variant="secondary" icon="sitemap" onClick={() => locationService.push(inAppPath(ev.trace!))}>
            Trace
          </Button>
        )}
      </div>
      <div className={styles.output}>{ev.output}</div>
      {ev.tags && ev.tags.length > 0 && (
        <div className={styles.tags}>
          {ev.tags.map((t) => (
            <span key={t} className={styles.tag}>
              {t}
            </span>
          ))}
        </div>
      )}
    </div>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  page: css({ display: 'flex', flexDirection: 'column', gap: theme.spacing(1.5) }),
  toolbar: css({ display: 'flex', gap: theme.spacing(1), alignItems: 'center' }),
  spacer: css({ flex: 1 }),
  dim: css({ color: theme.colors.text.secondary }),
  list: css({ display: 'flex', flexDirection: 'column', gap: theme.spacing(1) }),
  row: css({
    padding: theme.spacing(1, 1.5),
    border: `1px solid ${theme.colors.border.weak}`,
    borderRadius: theme.shape.radius.default,
    background: theme.colors.background.primary,
  }),
  rowHead: css({ display: 'flex', gap: theme.spacing(1), alignItems: 'center', flexWrap: 'wrap' }),
  output: css({
    marginTop: theme.spacing(0.5),
    fontFamily: theme.typography.fontFamilyMonospace,
    fontSize: theme.typography.bodySmall.fontSize,
    color: theme.colors.text.secondary,
    wordBreak: 'break-word',
  }),
  tags: css({ display: 'flex', gap: theme.spacing(0.5), flexWrap: 'wrap', marginTop: theme.spacing(0.5) }),
  tag: css({
    fontSize: theme.typography.bodySmall.fontSize,
    padding: theme.spacing(0, 0.5),
    borderRadius: theme.shape.radius.default,
    background: theme.colors.background.secondary,
  }),
});
