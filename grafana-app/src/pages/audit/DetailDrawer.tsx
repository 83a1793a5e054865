import { css } from '@emotion/css';
import React, { useEffect, useMemo } from 'react';
import { GrafanaTheme2 } from '@grafana/data';
import { locationService } from '@grafana/runtime';
import { Badge, Button, ClipboardButton, Drawer, IconButton, Stack, useStyles2 } from '@grafana/ui';

import { api } from '../../api/client';
import { ActivityRecord, FieldInfo } from '../../api/types';
import { hasTerm, Op } from '../../state/filter';
import { SOURCE_TITLES } from '../../state/fields';
import { formatNs, nsToMs } from '../../state/time';
import { useResource } from '../../state/useResource';
import { traceUrl } from '../../state/url';
import { testIds } from '../../testIds';
import { traceId } from './ActivityTable';
import { summary } from './columns';

interface Props {
  record: ActivityRecord;
  fields: FieldInfo[];
  filter: string;
  onClose: () => void;
  /** + (op "=") and - (op "!="): write the term into the filter. */
  onTerm: (field: string, op: Op, value: string) => void;
}

// The sections of the detail view, as the seed's "Review Activity Details".
const SECTIONS: Array<{ title: string; fields: string[] }> = [
  { title: 'Command', fields: ['comm', 'exe', 'cmdline', 'cwd', 'tty'] },
  { title: 'Connection', fields: ['direction', 'l4proto', 'client_ip', 'client_port', 'server_ip', 'server_port'] },
  {
    title: 'Kubernetes request',
    fields: ['resource', 'name', 'subresource', 'command', 'k8s_user', 'k8s_groups', 'user_agent', 'source_addresses', 'audit_id', 'response_code', 'exec_stdin', 'exec_tty', 'end_time'],
  },
  { title: 'Scope', fields: ['cluster', 'namespace', 'workload', 'workload_kind', 'pod'] },
  { title: 'Container', fields: ['container', 'container_id', 'image'] },
  { title: 'Host', fields: ['host', 'host_mac'] },
  { title: 'Process', fields: ['pid', 'ppid', 'uid', 'gid', 'user', 'login_uid', 'shell_id', 'shell_distance', 'exec_id', 'parent_exec_id'] },
  { title: 'Session', fields: ['session', 'session_entry', 'probe'] },
];

/**
 * Every attribute of a record, grouped as the seed's detail view, each with
 * + (include) and - (exclude) writing the canonical term into the filter.
 */
export function DetailDrawer({ record, fields, filter, onClose, onTerm }: Props) {
  const styles = useStyles2(getStyles);
  const byName = useMemo(() => new Map(fields.map((f) => [f.name, f])), [fields]);

  const sections = useMemo(() => {
    const listed = new Set(SECTIONS.flatMap((s) => s.fields));
    const out = SECTIONS.map((s) => ({ title: s.title, names: s.fields.filter((n) => record[n] !== undefined && record[n] !== '') }));
    // Whatever the registry holds beyond these (it is the one definition).
    const other = fields.map((f) => f.name).filter((n) => !listed.has(n) && n !== 'time' && n !== 'source' && record[n] !== undefined && record[n] !== '');
    for (const n of Object.keys(record)) {
      if (!listed.has(n) && !other.includes(n) && !['id', 'time', 'source'].includes(n)) {
        other.push(n);
      }
    }
    out.push({ title: 'Other', names: other });
    return out.filter((s) => s.names.length > 0);
  }, [record, fields]);

  // Escape closes the detail view wherever the focus is (the drawer takes it when it opens).
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        onClose();
      }
    };
    document.addEventListener('keydown', onKey, true);
    return () => document.removeEventListener('keydown', onKey, true);
  }, [onClose]);

  const tid = traceId(record);
  const ms = nsToMs(record.time);
  const range = { from: ms - 3600_000, to: ms + 900_000 };
  const who = useResource(
    record.session && record.source !== 'kube_exec' ? (signal) => api.who(record.session, { from: ms, to: ms + 1 }, signal) : null,
    [record.id]
  );

  return (
    <Drawer title={summary(record) || SOURCE_TITLES[record.source]} subtitle={`${SOURCE_TITLES[record.source] ?? record.source} · ${formatNs(record.time)}`} onClose={onClose} size="md">
      <div data-testid={testIds.audit.detail} data-id={record.id}>
        <Stack direction="row" gap={1} wrap="wrap">
          {tid && (
            <Button icon="sitemap" onClick={() => locationService.push(traceUrl(tid, range.from, range.to))} data-testid={testIds.audit.traceButton}>
              Trace
            </Button>
          )}
          <ClipboardButton icon="copy" variant="secondary" getText={() => JSON.stringify(record, null, 2)}>
            Copy as JSON
          </ClipboardButton>
        </Stack>
        {who.data && (
          <div className={styles.who}>
            {who.data.status === 'known' ? (
              <>
                <Badge color="blue" text="kube exec" /> by <b>{who.data.user}</b>
                {who.data.kube_exec?.source_addresses && <> from {who.data.kube_exec.source_addresses}</>}
              </>
            ) : (
              <>
                <Badge color={who.data.status === 'probe' ? 'purple' : 'orange'} text={who.data.status} /> {whoText(who.data.status)}
              </>
            )}
          </div>
        )}
        <table className={styles.attrs}>
          <tbody>
            <tr>
              <th className={styles.name}>time</th>
              <td className={styles.value}>
                {formatNs(record.time)} <span className={styles.raw}>({record.time} ns)</span>
              </td>
              <td />
            </tr>
            <Attr name="source" value={record.source} info={byName.get('source')} filter={filter} onTerm={onTerm} />
            {sections.map((s) => (
              <React.Fragment key={s.title}>
                <tr>
                  <th colSpan={3} className={styles.section}>
                    {s.title}
                  </th>
                </tr>
                {s.names.map((n) => (
                  <Attr key={n} name={n} value={record[n]} info={byName.get(n)} filter={filter} onTerm={onTerm} />
                ))}
              </React.Fragment>
            ))}
          </tbody>
        </table>
      </div>
    </Drawer>
  );
}

function whoText(status: string): string {
  switch (status) {
    case 'probe':
      return 'a kubelet exec probe started this session, not a person';
    case 'ambiguous':
      return 'several kube exec requests fit this session: none is guessed';
    default:
      return 'no kube exec request is known for this session';
  }
}

function Attr({
  name,
  value,
  info,
  filter,
  onTerm,
}: {
  name: string;
  value: string;
  info?: FieldInfo;
  filter: string;
  onTerm: Props['onTerm'];
}) {
  const styles = useStyles2(getStyles);
  const filterable = info ? info.filterable : false;
  const included = hasTerm(filter, name, '=', value);
  const excluded = hasTerm(filter, name, '!=', value);
  return (
    <tr>
      <th className={styles.name} title={info?.description}>
        {name}
      </th>
      <td className={styles.value}>{value}</td>
      <td className={styles.buttons}>
        {filterable && (
          <>
            <IconButton
              name="plus-circle"
              size="sm"
              data-testid={testIds.audit.include(name)}
              aria-label={`Include ${name}="${value}"`}
              tooltip={`Include: ${name}="${value}"`}
              disabled={included}
              onClick={() => onTerm(name, '=', value)}
            />
            <IconButton
              name="minus-circle"
              size="sm"
              data-testid={testIds.audit.exclude(name)}
              aria-label={`Exclude ${name}!="${value}"`}
              tooltip={`Exclude: ${name}!="${value}"`}
              disabled={excluded}
              onClick={() => onTerm(name, '!=', value)}
            />
          </>
        )}
      </td>
    </tr>
  );
}


const getStyles = (theme: GrafanaTheme2) => ({
  who: css({ marginTop: theme.spacing(2), display: 'flex', gap: theme.spacing(1), alignItems: 'center' }),
  attrs: css({ width: '100%', marginTop: theme.spacing(2), borderCollapse: 'collapse' }),
  section: css({
    textAlign: 'left',
    paddingTop: theme.spacing(2),
    paddingBottom: theme.spacing(0.5),
    color: theme.colors.text.secondary,
    fontWeight: theme.typography.fontWeightMedium,
    borderBottom: `1px solid ${theme.colors.border.weak}`,
  }),
  name: css({
    textAlign: 'left',
    verticalAlign: 'top',
    whiteSpace: 'nowrap',
    padding: theme.spacing(0.5, 2, 0.5, 0),
    fontFamily: theme.typography.fontFamilyMonospace,
    fontWeight: theme.typography.fontWeightRegular,
    color: theme.colors.text.secondary,
    width: '1%',
  }),
  value: css({ fontFamily: theme.typography.fontFamilyMonospace, wordBreak: 'break-all', padding: theme.spacing(0.5, 0) }),
  raw: css({ color: theme.colors.text.secondary }),
  buttons: css({ whiteSpace: 'nowrap', textAlign: 'right', width: '1%', verticalAlign: 'top' }),
});
