import { css, cx } from '@emotion/css';
import { KeyboardEvent, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { GrafanaTheme2 } from '@grafana/data';
import { Button, Icon, useStyles2 } from '@grafana/ui';

import { ActivityRecord, Source } from '../../api/types';
import { testIds } from '../../testIds';
import { columnsFor } from './columns';

export const ROW_HEIGHT = 34;
const OVERSCAN = 8;

interface Props {
  records: ActivityRecord[];
  sources: Source[];
  loading: boolean;
  hasMore: boolean;
  height: number;
  selected?: string;
  onLoadMore: () => void;
  onSelect: (r: ActivityRecord) => void;
  onTrace: (r: ActivityRecord) => void;
  /** Escape in the table: close the detail view. */
  onEscape?: () => void;
}

/** The session or audit id a row's Trace button opens; undefined when none. */
export function traceId(r: ActivityRecord): string | undefined {
  if (r.session) {
    return r.session;
  }
  if (r.source === 'kube_exec' && r.audit_id) {
    return r.audit_id;
  }
  return undefined;
}

/**
 * The activity table: only the rows in view are in the DOM; scrolling near
 * the end loads the next page. Arrow keys move between rows, Enter opens
 * the detail view, Escape closes it, t opens the trace.
 */
export function ActivityTable({ records, sources, loading, hasMore, height, selected, onLoadMore, onSelect, onTrace, onEscape }: Props) {
  const styles = useStyles2(getStyles);
  const columns = useMemo(() => columnsFor(sources), [sources]);
  const grid = `${columns.map((c) => c.width).join(' ')} 84px`;
  const scroller = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [focusIdx, setFocusIdx] = useState(0);

  const bodyHeight = height - ROW_HEIGHT;
  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(records.length, Math.ceil((scrollTop + bodyHeight) / ROW_HEIGHT) + OVERSCAN);

  // Near the end (or a first page that does not fill the view): the next page.
  useEffect(() => {
    if (hasMore && !loading && last >= records.length - OVERSCAN) {
      onLoadMore();
    }
  }, [hasMore, loading, last, records.length, onLoadMore]);

  // A new scope starts at the top.
  const firstId = records[0]?.id;
  useEffect(() => {
    if (scroller.current) {
      scroller.current.scrollTop = 0;
    }
    setScrollTop(0);
    setFocusIdx(0);
  }, [firstId]);

  const pendingFocus = useRef<number | null>(null);
  useLayoutEffect(() => {
    if (pendingFocus.current !== null) {
      const row = scroller.current?.querySelector<HTMLElement>(`[data-row-index="${pendingFocus.current}"]`);
      if (row) {
        pendingFocus.current = null;
        row.focus();
      }
    }
  });

  const focusRow = (i: number) => {
    const el = scroller.current;
    if (!el || records.length === 0) {
      return;
    }
    const idx = Math.max(0, Math.min(records.length - 1, i));
    setFocusIdx(idx);
    const top = idx * ROW_HEIGHT;
    if (top < el.scrollTop) {
      el.scrollTop = top;
    } else if (top + ROW_HEIGHT > el.scrollTop + bodyHeight) {
      el.scrollTop = top + ROW_HEIGHT - bodyHeight;
    }
    // The row is in the DOM when it is near the view (overscan); else once the scroll renders it.
    const row = el.querySelector<HTMLElement>(`[data-row-index="${idx}"]`);
    if (row) {
      row.focus();
    } else {
      pendingFocus.current = idx;
    }
  };

  const onKeyDown = (e: KeyboardEvent, i: number, r: ActivityRecord) => {
    const page = Math.max(1, Math.floor(bodyHeight / ROW_HEIGHT) - 1);
    switch (e.key) {
      case 'ArrowDown':
        focusRow(i + 1);
        break;
      case 'ArrowUp':
        focusRow(i - 1);
        break;
      case 'PageDown':
        focusRow(i + page);
        break;
      case 'PageUp':
        focusRow(i - page);
        break;
      case 'Home':
        focusRow(0);
        break;
      case 'End':
        focusRow(records.length - 1);
        break;
      case 'Enter':
      case ' ':
        onSelect(r);
        break;
      case 't':
        if (traceId(r)) {
          onTrace(r);
        }
        break;
      case 'Escape':
        if (!selected || !onEscape) {
          return;
        }
        onEscape();
        break;
      default:
        return;
    }
    e.preventDefault();
  };

  return (
    <div className={styles.table} role="grid" aria-rowcount={records.length + 1} data-testid={testIds.audit.table} data-rows={records.length} data-loading={loading}>
      <div className={cx(styles.row, styles.head)} role="row" style={{ gridTemplateColumns: grid }}>
        {columns.map((c) => (
          <div key={c.id} role="columnheader" className={styles.cell}>
            {c.header}
          </div>
        ))}
        <div role="columnheader" className={styles.cell} />
      </div>
      <div ref={scroller} className={styles.body} style={{ height: bodyHeight }} onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}>
        <div style={{ height: records.length * ROW_HEIGHT, position: 'relative' }}>
          {records.slice(first, last).map((r, k) => {
            const i = first + k;
            const tid = traceId(r);
            return (
              <div
                key={r.id}
                role="row"
                aria-rowindex={i + 2}
                aria-selected={selected === r.id}
                tabIndex={i === focusIdx ? 0 : -1}
                data-row-index={i}
                data-testid={testIds.audit.row}
                data-id={r.id}
                data-source={r.source}
                className={cx(styles.row, styles.dataRow, selected === r.id && styles.selected)}
                style={{ gridTemplateColumns: grid, top: i * ROW_HEIGHT }}
                onClick={() => {
                  setFocusIdx(i);
                  onSelect(r);
                }}
                onKeyDown={(e) => onKeyDown(e, i, r)}
              >
                {columns.map((c) => (
                  <div key={c.id} role="gridcell" className={cx(styles.cell, c.id !== 'time' && styles.mono)} title={c.text?.(r)}>
                    {c.render(r)}
                  </div>
                ))}
                <div role="gridcell" className={styles.actions}>
                  {tid && (
                    <Button
                      size="sm"
                      variant="secondary"
                      fill="text"
                      icon="sitemap"
                      tabIndex={-1}
                      data-testid={testIds.audit.traceButton}
                      tooltip={r.source === 'kube_exec' ? 'Trace this kube exec session' : 'Trace the session of this activity'}
                      onClick={(e) => {
                        e.stopPropagation();
                        onTrace(r);
                      }}
                    >
                      Trace
                    </Button>
                  )}
                </div>
              </div>
            );
          })}
        </div>
      </div>
      <div className={styles.status} data-testid={testIds.audit.tableStatus} aria-live="polite">
        {loading ? (
          <>
            <Icon name="spinner" /> Loading…
          </>
        ) : records.length === 0 ? (
          'No activity matches.'
        ) : hasMore ? (
          `${records.length} shown, scroll for more`
        ) : (
          `${records.length} shown, all of them`
        )}
      </div>
    </div>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  table: css({
    display: 'flex',
    flexDirection: 'column',
    border: `1px solid ${theme.colors.border.weak}`,
    borderRadius: theme.shape.radius.default,
    background: theme.colors.background.primary,
    minWidth: 0,
  }),
  head: css({
    height: ROW_HEIGHT,
    fontWeight: theme.typography.fontWeightMedium,
    color: theme.colors.text.secondary,
    borderBottom: `1px solid ${theme.colors.border.weak}`,
  }),
  body: css({ overflowY: 'auto', position: 'relative' }),
  row: css({ display: 'grid', alignItems: 'center', columnGap: theme.spacing(1), padding: theme.spacing(0, 1) }),
  dataRow: css({
    position: 'absolute',
    left: 0,
    right: 0,
    height: ROW_HEIGHT,
    cursor: 'pointer',
    borderBottom: `1px solid ${theme.colors.border.weak}`,
    '&:hover': { background: theme.colors.action.hover },
    '&:focus-visible': { outline: `2px solid ${theme.colors.primary.main}`, outlineOffset: -2 },
  }),
  selected: css({ background: theme.colors.action.selected }),
  cell: css({ overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap', minWidth: 0 }),
  mono: css({ fontFamily: theme.typography.fontFamilyMonospace, fontSize: theme.typography.bodySmall.fontSize }),
  actions: css({ display: 'flex', justifyContent: 'flex-end' }),
  status: css({
    padding: theme.spacing(0.5, 1),
    color: theme.colors.text.secondary,
    fontSize: theme.typography.bodySmall.fontSize,
    borderTop: `1px solid ${theme.colors.border.weak}`,
  }),
});
