import { css, cx } from '@emotion/css';
import { KeyboardEvent, useEffect, useMemo, useState } from 'react';
import { GrafanaTheme2 } from '@grafana/data';
import { Alert, Icon, LoadingPlaceholder, RadioButtonGroup, useStyles2 } from '@grafana/ui';

import { Group, GroupsAnswer } from '../../api/types';
import { includedValues } from '../../state/filter';
import { Grouping } from '../../state/url';
import { testIds } from '../../testIds';

interface Props {
  by: Grouping;
  filter: string;
  data?: GroupsAnswer;
  loading: boolean;
  error?: string;
  onBy: (by: Grouping) => void;
  /** Scope the view to a node (its path of terms). */
  onScope: (node: Group) => void;
}

interface Row {
  node: Group;
  depth: number;
  key: string;
  parent?: string;
  hasChildren: boolean;
}

const byOptions = [
  { label: 'Workloads', value: 'workload' as Grouping, description: 'namespace > workload > pod' },
  { label: 'Containers', value: 'container' as Grouping, description: 'host > container' },
];

function label(g: Group): string {
  if (g.value === '') {
    return g.field === 'namespace' ? '(no namespace: host)' : `(no ${g.field})`;
  }
  return g.field === 'container_id' ? g.value.slice(0, 12) : g.value;
}

/**
 * The groupings: counts by namespace > workload > pod (or host >
 * container) that follow the filter; clicking a node scopes the view to
 * it. A tree with the keyboard (arrows, Home/End, Enter).
 */
export function Groupings({ by, filter, data, loading, error, onBy, onScope }: Props) {
  const styles = useStyles2(getStyles);
  const [collapsed, setCollapsed] = useState<Record<string, boolean>>({});
  const [focus, setFocus] = useState<string>();

  const rows = useMemo(() => {
    const out: Row[] = [];
    const walk = (gs: Group[] | undefined, depth: number, parent?: string) => {
      for (const g of gs ?? []) {
        const key = g.filter;
        out.push({ node: g, depth, key, parent, hasChildren: !!g.groups?.length });
        if (!collapsed[key]) {
          walk(g.groups, depth + 1, key);
        }
      }
    };
    walk(data?.groups, 0);
    return out;
  }, [data, collapsed]);

  useEffect(() => {
    if (focus && !rows.some((r) => r.key === focus)) {
      setFocus(undefined);
    }
  }, [rows, focus]);

  const isActive = (g: Group) => includedValues(filter, g.field).includes(g.value) && g.value !== '';

  const focusRow = (key: string) => {
    setFocus(key);
    const el = document.querySelector<HTMLElement>(`[data-tree-key="${CSS.escape(key)}"]`);
    el?.focus();
  };

  const onKeyDown = (e: KeyboardEvent, i: number) => {
    const r = rows[i];
    switch (e.key) {
      case 'ArrowDown':
        if (i + 1 < rows.length) {
          focusRow(rows[i + 1].key);
        }
        break;
      case 'ArrowUp':
        if (i > 0) {
          focusRow(rows[i - 1].key);
        }
        break;
      case 'Home':
        focusRow(rows[0].key);
        break;
      case 'End':
        focusRow(rows[rows.length - 1].key);
        break;
      case 'ArrowRight':
        if (r.hasChildren && collapsed[r.key]) {
          setCollapsed({ ...collapsed, [r.key]: false });
        } else if (r.hasChildren && i + 1 < rows.length) {
          focusRow(rows[i + 1].key);
        }
        break;
      case 'ArrowLeft':
        if (r.hasChildren && !collapsed[r.key]) {
          setCollapsed({ ...collapsed, [r.key]: true });
        } else if (r.parent) {
          focusRow(r.parent);
        }
        break;
      case 'Enter':
      case ' ':
        onScope(r.node);
        break;
      default:
        return;
    }
    e.preventDefault();
  };

  return (
    <div className={styles.wrapper} data-testid={testIds.audit.groupings}>
      <div className={styles.header}>
        <RadioButtonGroup size="sm" options={byOptions} value={by} onChange={onBy} data-testid={testIds.audit.groupingBy} />
      </div>
      {error && (
        <Alert severity="error" title="Groupings">
          {error}
        </Alert>
      )}
      {!data && loading && <LoadingPlaceholder text="Counting…" />}
      {data && (
        <div className={styles.total}>
          {data.total} {data.total === 1 ? 'activity' : 'activities'}
          {loading && <Icon name="spinner" className={styles.spin} />}
        </div>
      )}
      {data && data.groups.length === 0 && <div className={styles.empty}>No activity in this range.</div>}
      <ul role="tree" aria-label="Groupings" className={styles.tree}>
        {rows.map((r, i) => {
          const g = r.node;
          const active = isActive(g);
          return (
            <li
              key={r.key}
              role="treeitem"
              aria-level={r.depth + 1}
              aria-expanded={r.hasChildren ? !collapsed[r.key] : undefined}
              aria-selected={active}
              tabIndex={(focus ?? rows[0]?.key) === r.key ? 0 : -1}
              data-tree-key={r.key}
              data-testid={testIds.audit.groupNode(g.field, g.value)}
              className={cx(styles.node, active && styles.active)}
              style={{ paddingLeft: 4 + r.depth * 14 }}
              title={g.filter}
              onClick={() => {
                setFocus(r.key);
                onScope(g);
              }}
              onKeyDown={(e) => onKeyDown(e, i)}
            >
              <span
                className={styles.caret}
                onClick={(e) => {
                  e.stopPropagation();
                  if (r.hasChildren) {
                    setCollapsed({ ...collapsed, [r.key]: !collapsed[r.key] });
                  }
                }}
              >
                {r.hasChildren && <Icon name={collapsed[r.key] ? 'angle-right' : 'angle-down'} size="sm" />}
              </span>
              <span className={styles.kind}>{g.field === 'container_id' ? 'container' : g.field}</span>
              <span className={styles.value}>{label(g)}</span>
              <span className={styles.count} data-count={g.count}>
                ({g.count})
              </span>
            </li>
          );
        })}
      </ul>
    </div>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  wrapper: css({ display: 'flex', flexDirection: 'column', gap: theme.spacing(1), minWidth: 0 }),
  header: css({ display: 'flex', justifyContent: 'space-between', alignItems: 'center' }),
  total: css({ color: theme.colors.text.secondary, fontSize: theme.typography.bodySmall.fontSize, display: 'flex', gap: 4 }),
  spin: css({ marginLeft: theme.spacing(0.5) }),
  empty: css({ color: theme.colors.text.secondary }),
  tree: css({ listStyle: 'none', margin: 0, padding: 0, overflowY: 'auto' }),
  node: css({
    display: 'flex',
    alignItems: 'center',
    gap: theme.spacing(0.5),
    padding: theme.spacing(0.25, 0.5),
    cursor: 'pointer',
    borderRadius: theme.shape.radius.default,
    whiteSpace: 'nowrap',
    '&:hover': { background: theme.colors.action.hover },
    '&:focus-visible': { outline: `2px solid ${theme.colors.primary.main}`, outlineOffset: -2 },
  }),
  active: css({ background: theme.colors.action.selected, fontWeight: theme.typography.fontWeightMedium }),
  caret: css({ width: 16, display: 'inline-flex', justifyContent: 'center', flexShrink: 0 }),
  kind: css({ color: theme.colors.text.secondary, fontSize: theme.typography.bodySmall.fontSize }),
  value: css({ overflow: 'hidden', textOverflow: 'ellipsis', minWidth: 0 }),
  count: css({ color: theme.colors.text.secondary, marginLeft: 'auto', paddingLeft: theme.spacing(1) }),
});
