import { css, cx } from '@emotion/css';
import { useLocation, useParams } from 'react-router-dom';
import { GrafanaTheme2 } from '@grafana/data';
import { locationService, PluginPage } from '@grafana/runtime';
import { Alert, Badge, BadgeColor, Button, LoadingPlaceholder, Stack, useStyles2 } from '@grafana/ui';

import { api, ApiError } from '../../api/client';
import { ActivityRecord, TraceAnswer, TraceProcess, TraceStatus } from '../../api/types';
import { formatDuration, formatNs, nsToMs } from '../../state/time';
import { useResource } from '../../state/useResource';
import { auditUrl, inAppPath } from '../../state/url';
import { testIds } from '../../testIds';
import { endpoint } from '../audit/columns';

const STATUS: Record<TraceStatus, { color: BadgeColor; text: string; explain: string }> = {
  known: { color: 'green', text: 'kube exec known', explain: 'The kube exec request that opened this session.' },
  unknown: { color: 'orange', text: 'unknown', explain: 'No kube exec request fits this session: none was recorded, or the session did not come from one.' },
  ambiguous: { color: 'orange', text: 'ambiguous', explain: 'Several kube exec requests fit this session and others: none is guessed.' },
  probe: { color: 'purple', text: 'probe', explain: 'A kubelet exec probe started this session, not a person.' },
  denied: { color: 'red', text: 'denied', explain: 'The API server refused the request: no session was opened.' },
  'no process': { color: 'blue', text: 'no process', explain: 'The request (attach, debug) starts no process in the container.' },
};

/**
 * The trace of a session (or of a kube exec by its audit id): who opened
 * it (the Kubernetes request) and what ran in it, as a process tree with
 * connections on a timeline.
 */
export function TracePage() {
  const styles = useStyles2(getStyles);
  const { id = '' } = useParams();
  const location = useLocation();
  const q = new URLSearchParams(location.search);
  const from = q.get('from') ?? undefined;
  const to = q.get('to') ?? undefined;
  const trace = useResource((signal) => api.trace(id, { from, to }, signal), [id, from, to]);

  return (
    <PluginPage>
      <div className={styles.page} data-testid={testIds.trace.page}>
        {trace.loading && !trace.data && <LoadingPlaceholder text="Tracing the session…" />}
        {trace.error !== undefined && (
          <Alert severity={trace.error instanceof ApiError && trace.error.status === 404 ? 'warning' : 'error'} title="No trace">
            {trace.error instanceof Error ? trace.error.message : String(trace.error)}
          </Alert>
        )}
        {trace.data && <Trace t={trace.data} from={from} to={to} />}
      </div>
    </PluginPage>
  );
}

function Trace({ t, from, to }: { t: TraceAnswer; from?: string; to?: string }) {
  const styles = useStyles2(getStyles);
  const k = t.kube_exec;
  const st = STATUS[t.status] ?? { color: 'blue' as BadgeColor, text: t.status, explain: '' };
  const start = nsToMs(t.start || k?.time);
  const endNs = t.end || (k?.end_time && k.end_time !== '0' ? k.end_time : undefined);
  const end = Math.max(nsToMs(endNs), start + 1);
  const openAudit = () => {
    if (t.audit) {
      locationService.push(inAppPath(t.audit));
    } else if (t.session) {
      locationService.push(auditUrl({ from: from ?? String(start - 60000), to: to ?? String(end + 60000), filter: `session="${t.session}"` }));
    }
  };

  return (
    <>
      <section className={styles.card} data-testid={testIds.trace.header}>
        <Stack direction="row" gap={1} alignItems="center" wrap="wrap">
          <h3 className={styles.title}>
            {t.user ? (
              <>
                <span className={styles.dim}>kube exec by</span> <span data-testid="aa-trace-user">{t.user}</span>
              </>
            ) : (
              'Session'
            )}
          </h3>
          <span data-testid={testIds.trace.status} data-status={t.status}>
            <Badge color={st.color} text={st.text} tooltip={st.explain} />
          </span>
          {t.exact && <Badge color="green" text="exact (audit id)" tooltip="Matched by the audit id the session's entry process carried." />}
          {t.truncated && <Badge color="orange" text="truncated" tooltip="The session has more records than one trace reads." />}
          <div className={styles.spacer} />
          {(t.audit || t.session) && (
            <Button icon="list-ul" variant="secondary" onClick={openAudit}>
              Session in Activity Audit
            </Button>
          )}
        </Stack>
        <p className={styles.dim}>{st.explain}</p>
        <dl className={styles.facts}>
          <Fact name="User" value={k?.k8s_user ?? t.user} />
          <Fact name="Groups" value={k?.k8s_groups} />
          <Fact name="Source addresses" value={k?.source_addresses} />
          <Fact name="User agent" value={k?.user_agent} />
          <Fact name="Command" value={k?.command} />
          <Fact name="Container" value={k ? [k.container, k.container_id?.slice(0, 12)].filter(Boolean).join(' · ') : undefined} />
          <Fact name="Pod" value={k ? [k.namespace, k.name || k.pod].filter(Boolean).join(' / ') : undefined} />
          <Fact name="Host" value={k?.host} />
          <Fact name="Start" value={formatNs(t.start || k?.time)} />
          <Fact name="End" value={endNs ? formatNs(endNs) : undefined} />
          <Fact name="Response" value={k?.response_code} />
          <Fact name="Audit id" value={k?.audit_id} />
          <Fact name="Session" value={t.session || undefined} />
          <Fact name="Activity" value={`${t.commands} ${t.commands === 1 ? 'command' : 'commands'}, ${t.connections} ${t.connections === 1 ? 'connection' : 'connections'}`} />
        </dl>
        {t.status === 'ambiguous' && (t.ambiguous?.length || t.candidates?.length) ? (
          <div>
            <h4>Requests that fit</h4>
            <ul>
              {t.ambiguous?.map((a) => (
                <li key={a.id} className={styles.mono}>
                  {formatNs(a.time)} {a.k8s_user} exec "{a.command}" from {a.source_addresses}
                </li>
              ))}
              {t.candidates?.map((c) => (
                <li key={c} className={styles.mono}>
                  session {c}
                </li>
              ))}
            </ul>
          </div>
        ) : null}
      </section>

      {t.processes.length > 0 && (
        <section className={styles.card}>
          <h4>Processes and connections</h4>
          <div className={styles.tree} role="tree" aria-label="Process tree">
            <div className={cx(styles.line, styles.headLine)}>
              <span>Process</span>
              <span>Time</span>
              <span>Timeline ({formatDuration(end - start)})</span>
            </div>
            {t.processes.map((p) => (
              <ProcessNode key={p.record.id} p={p} depth={0} start={start} end={end} />
            ))}
            {t.unattributed?.map((c) => (
              <ConnectionLine key={c.id} c={c} depth={0} start={start} end={end} note="(no known process)" />
            ))}
          </div>
        </section>
      )}
    </>
  );
}

function Fact({ name, value }: { name: string; value?: string }) {
  const styles = useStyles2(getStyles);
  if (!value) {
    return null;
  }
  return (
    <div className={styles.fact} data-fact={name}>
      <dt>{name}</dt>
      <dd className={styles.mono}>{value}</dd>
    </div>
  );
}

function Bar({ at, start, end, kind }: { at: number; start: number; end: number; kind: 'proc' | 'conn' }) {
  const styles = useStyles2(getStyles);
  const pct = Math.max(0, Math.min(100, ((at - start) / (end - start)) * 100));
  return (
    <span className={styles.timeline} aria-hidden>
      <span className={cx(styles.mark, kind === 'conn' && styles.markConn)} style={{ left: `calc(${pct}% - 4px)` }} />
    </span>
  );
}

function ProcessNode({ p, depth, start, end }: { p: TraceProcess; depth: number; start: number; end: number }) {
  const styles = useStyles2(getStyles);
  const r = p.record;
  const at = nsToMs(r.time);
  return (
    <>
      <div className={styles.line} role="treeitem" aria-level={depth + 1} data-testid={testIds.trace.process} data-comm={r.comm} data-cmdline={r.cmdline}>
        <span className={styles.proc} style={{ paddingLeft: depth * 18 }}>
          <span className={styles.mono}>{r.cmdline || r.comm}</span>
          <span className={styles.dim}>
            {' '}
            pid {r.pid}
            {r.user ? ` · ${r.user}` : ''}
            {r.cwd ? ` · ${r.cwd}` : ''}
          </span>
          {p.entry && <Badge color="blue" text="entry" className={styles.badge} />}
          {p.inferred && <Badge color="orange" text="inferred" className={styles.badge} tooltip="Not recorded itself: known from its children." />}
          {p.orphan && <Badge color="darkgrey" text="parent not recorded" className={styles.badge} />}
        </span>
        <span className={styles.time}>+{formatDuration(at - start)}</span>
        <Bar at={at} start={start} end={end} kind="proc" />
      </div>
      {p.connections?.map((c) => (
        <ConnectionLine key={c.id} c={c} depth={depth + 1} start={start} end={end} />
      ))}
      {p.children?.map((c) => (
        <ProcessNode key={c.record.id} p={c} depth={depth + 1} start={start} end={end} />
      ))}
    </>
  );
}

function ConnectionLine({ c, depth, start, end, note }: { c: ActivityRecord; depth: number; start: number; end: number; note?: string }) {
  const styles = useStyles2(getStyles);
  const at = nsToMs(c.time);
  const arrow = c.direction === 'in' ? '←' : '→';
  return (
    <div className={styles.line} role="treeitem" aria-level={depth + 1} data-testid={testIds.trace.connection} data-server={endpoint(c.server_ip, c.server_port)}>
      <span className={styles.proc} style={{ paddingLeft: depth * 18 }}>
        <span className={styles.conn}>
          {c.l4proto} {endpoint(c.client_ip, c.client_port)} {arrow} {endpoint(c.server_ip, c.server_port)}
        </span>
        <span className={styles.dim}> {c.direction === 'in' ? 'incoming' : 'outgoing'}{note ? ` ${note}` : ''}</span>
      </span>
      <span className={styles.time}>+{formatDuration(at - start)}</span>
      <Bar at={at} start={start} end={end} kind="conn" />
    </div>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  page: css({ display: 'flex', flexDirection: 'column', gap: theme.spacing(2) }),
  card: css({
    padding: theme.spacing(2),
    border: `1px solid ${theme.colors.border.weak}`,
    borderRadius: theme.shape.radius.default,
    background: theme.colors.background.primary,
  }),
  title: css({ margin: 0 }),
  spacer: css({ flex: 1 }),
  dim: css({ color: theme.colors.text.secondary }),
  mono: css({ fontFamily: theme.typography.fontFamilyMonospace }),
  facts: css({
    display: 'grid',
    gridTemplateColumns: 'repeat(auto-fill, minmax(260px, 1fr))',
    gap: theme.spacing(1, 3),
    margin: 0,
    dt: { color: theme.colors.text.secondary, fontSize: theme.typography.bodySmall.fontSize },
    dd: { margin: 0, wordBreak: 'break-all' },
  }),
  fact: css({}),
  tree: css({ display: 'flex', flexDirection: 'column' }),
  line: css({
    display: 'grid',
    gridTemplateColumns: 'minmax(0, 3fr) 90px minmax(120px, 2fr)',
    gap: theme.spacing(1),
    alignItems: 'center',
    padding: theme.spacing(0.5, 0),
    borderBottom: `1px solid ${theme.colors.border.weak}`,
  }),
  headLine: css({ color: theme.colors.text.secondary, fontSize: theme.typography.bodySmall.fontSize }),
  proc: css({ overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' }),
  conn: css({ fontFamily: theme.typography.fontFamilyMonospace, color: theme.colors.warning.text }),
  badge: css({ marginLeft: theme.spacing(1) }),
  time: css({ fontVariantNumeric: 'tabular-nums', color: theme.colors.text.secondary, textAlign: 'right' }),
  timeline: css({ position: 'relative', height: 8, background: theme.colors.background.secondary, borderRadius: 4 }),
  mark: css({ position: 'absolute', top: 0, width: 8, height: 8, borderRadius: 4, background: theme.colors.primary.main }),
  markConn: css({ background: theme.colors.warning.main }),
});
