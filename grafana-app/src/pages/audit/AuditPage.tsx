import { css } from '@emotion/css';
import { useCallback, useMemo, useState } from 'react';
import { useLocation } from 'react-router-dom';
import { GrafanaTheme2 } from '@grafana/data';
import { locationService, PluginPage } from '@grafana/runtime';
import { Alert, IconButton, TimeRangePicker, useStyles2 } from '@grafana/ui';

import { api, ApiError, Scope } from '../../api/client';
import { ActivityRecord, Group, Source } from '../../api/types';
import { addTerm, includedValues, Op, removeFields, scopeTo } from '../../state/filter';
import { useFields } from '../../state/fields';
import { fromTimeRange, nsToMs, shiftRange, toTimeRange, zoomOut } from '../../state/time';
import { useResource } from '../../state/useResource';
import { auditSearch, AuditState, GROUPINGS, parseAuditState, traceUrl } from '../../state/url';
import { PLUGIN_BASE_URL, ROUTES } from '../../constants';
import { testIds } from '../../testIds';
import { ActivityTable, traceId } from './ActivityTable';
import { DetailDrawer } from './DetailDrawer';
import { FilterBox, FilterError } from './FilterBox';
import { FrequencyGraph } from './FrequencyGraph';
import { Groupings } from './Groupings';
import { SourceToggles } from './SourceToggles';
import { useEvents } from './useEvents';

/**
 * The sources the view shows: those of the URL, narrowed by source="…"
 * terms of the filter (the links of pkg/link write sources that way).
 */
export function effectiveSources(s: AuditState): Source[] {
  const inFilter = includedValues(s.filter, 'source');
  return inFilter.length === 0 ? s.sources : s.sources.filter((x) => inFilter.includes(x));
}

function filterErrorOf(e: unknown, text: string): FilterError | undefined {
  if (e instanceof ApiError && e.body.kind === 'filter') {
    return { text, message: e.body.message, column: e.body.column, suggestion: e.body.suggestion };
  }
  return undefined;
}

function messageOf(e: unknown): string | undefined {
  if (!e) {
    return undefined;
  }
  if (e instanceof ApiError) {
    return e.body.kind === 'filter' ? undefined : e.body.message;
  }
  return e instanceof Error ? e.message : String(e);
}

export function AuditPage() {
  const styles = useStyles2(getStyles);
  const location = useLocation();
  const state = useMemo(() => parseAuditState(location.search), [location.search]);
  const [refresh, setRefresh] = useState(0);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const range = useMemo(() => toTimeRange(state.from, state.to), [state.from, state.to, refresh]);
  const fromMs = range.from.valueOf();
  const toMs = range.to.valueOf();
  const sources = useMemo(() => effectiveSources(state), [state]);
  const srcKey = sources.join(',');
  const scope: Scope = useMemo(() => ({ from: fromMs, to: toMs, sources, filter: state.filter }), [fromMs, toMs, sources, state.filter]);
  const fields = useFields();
  const [localError, setLocalError] = useState<FilterError>();
  const [validating, setValidating] = useState(false);
  const [selectedRecord, setSelectedRecord] = useState<ActivityRecord>();

  const go = useCallback(
    (patch: Partial<AuditState>, replace = false) => {
      const url = `${PLUGIN_BASE_URL}/${ROUTES.Audit}${auditSearch({ ...state, ...patch })}`;
      if (replace) {
        locationService.replace(url);
      } else {
        locationService.push(url);
      }
    },
    [state]
  );

  // Counts of every source (for the toggles); the graph draws the selected ones.
  const freq = useResource((signal) => api.frequency({ ...scope, sources: undefined }, signal), [fromMs, toMs, state.filter]);
  const groups = useResource((signal) => api.groups(scope, GROUPINGS[state.by], signal), [fromMs, toMs, state.filter, srcKey, state.by]);
  const events = useEvents(scope, `${fromMs}|${toMs}|${state.filter}|${srcKey}`);

  const filterError =
    (localError && localError.text !== state.filter ? localError : undefined) ??
    filterErrorOf(freq.error, state.filter) ??
    filterErrorOf(groups.error, state.filter) ??
    filterErrorOf(events.error, state.filter);
  const queryError = messageOf(freq.error) ?? messageOf(groups.error) ?? messageOf(events.error);

  // A typed filter is checked by the backend first (a one-millisecond
  // query): an invalid one shows its position and changes nothing else.
  const applyFilter = async (text: string) => {
    const t = text.trim();
    if (t === state.filter.trim()) {
      setLocalError(undefined);
      setRefresh((n) => n + 1);
      return;
    }
    if (t !== '') {
      setValidating(true);
      try {
        await api.events({ from: toMs - 1, to: toMs, sources, filter: t }, { limit: 1 });
      } catch (e) {
        const fe = filterErrorOf(e, text);
        if (fe) {
          setLocalError(fe);
          return;
        }
      } finally {
        setValidating(false);
      }
    }
    setLocalError(undefined);
    go({ filter: t, sel: undefined });
  };

  const onTerm = (field: string, op: Op, value: string) => go({ filter: addTerm(state.filter, field, op, value) });

  const onScope = (g: Group) => go({ filter: scopeTo(state.filter, GROUPINGS[state.by], g.filter), sel: undefined });

  const onSources = (next: Source[]) => go({ sources: next, filter: removeFields(state.filter, ['source']), sel: undefined });

  const onTrace = (r: ActivityRecord) => {
    const id = traceId(r);
    if (id) {
      const ms = nsToMs(r.time);
      locationService.push(traceUrl(id, ms - 3600_000, ms + 900_000));
    }
  };

  const detail = state.sel ? (selectedRecord?.id === state.sel ? selectedRecord : events.records.find((r) => r.id === state.sel)) : undefined;

  return (
    <PluginPage>
      <div className={styles.page} data-testid={testIds.audit.page}>
        <div className={styles.toolbar}>
          <SourceToggles selected={sources} counts={freq.data} onChange={onSources} />
          <div className={styles.spacer} />
          <div data-testid={testIds.audit.timePicker} className={styles.picker}>
            <TimeRangePicker
              value={range}
              timeZone="browser"
              onChange={(r) => go(fromTimeRange(r))}
              onChangeTimeZone={() => undefined}
              onMoveBackward={() => go(shiftRange(range, -1))}
              onMoveForward={() => go(shiftRange(range, 1))}
              moveBackwardTooltip="Back one window"
              moveForwardTooltip="Forward one window"
              onZoom={() => go(zoomOut(range))}
            />
            <IconButton name="sync" size="lg" tooltip="Refresh" onClick={() => setRefresh((n) => n + 1)} />
          </div>
        </div>
        <FilterBox value={state.filter} fields={fields?.fields ?? []} scope={scope} error={filterError} busy={validating} onApply={applyFilter} />
        {queryError && (
          <Alert severity="error" title="The query failed" data-testid={testIds.audit.queryError}>
            {queryError}
          </Alert>
        )}
        <div className={styles.main}>
          <aside className={styles.side}>
            <Groupings
              by={state.by}
              filter={state.filter}
              data={groups.data}
              loading={groups.loading}
              error={undefined}
              onBy={(by) => go({ by })}
              onScope={onScope}
            />
          </aside>
          <section className={styles.content}>
            <FrequencyGraph data={freq.data} sources={sources} onZoom={(r) => go({ from: String(r.from), to: String(r.to) })} />
            <ActivityTable
              records={events.records}
              sources={sources}
              loading={events.loading}
              hasMore={events.hasMore}
              height={520}
              selected={state.sel}
              onLoadMore={events.loadMore}
              onSelect={(r) => {
                setSelectedRecord(r);
                go({ sel: r.id });
              }}
              onTrace={onTrace}
              onEscape={() => go({ sel: undefined })}
            />
          </section>
        </div>
        {detail && (
          <DetailDrawer
            record={detail}
            fields={fields?.fields ?? []}
            filter={state.filter}
            onClose={() => go({ sel: undefined })}
            onTerm={onTerm}
          />
        )}
      </div>
    </PluginPage>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  page: css({ display: 'flex', flexDirection: 'column', gap: theme.spacing(1.5) }),
  toolbar: css({ display: 'flex', gap: theme.spacing(1), alignItems: 'center', flexWrap: 'wrap' }),
  spacer: css({ flex: 1 }),
  picker: css({ display: 'flex', gap: theme.spacing(1), alignItems: 'center' }),
  main: css({
    display: 'grid',
    gridTemplateColumns: 'minmax(220px, 300px) minmax(0, 1fr)',
    gap: theme.spacing(2),
    [theme.breakpoints.down('md')]: { gridTemplateColumns: 'minmax(0, 1fr)' },
  }),
  side: css({
    padding: theme.spacing(1),
    border: `1px solid ${theme.colors.border.weak}`,
    borderRadius: theme.shape.radius.default,
    background: theme.colors.background.primary,
    maxHeight: 740,
    overflow: 'auto',
  }),
  content: css({ display: 'flex', flexDirection: 'column', gap: theme.spacing(1), minWidth: 0 }),
});
