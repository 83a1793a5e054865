import { css } from '@emotion/css';
import { useMemo, useRef } from 'react';
import { applyFieldOverrides, createDataFrame, DataFrame, dateTime, FieldColorModeId, FieldType, GrafanaTheme2, TimeRange } from '@grafana/data';
import {
  AxisPlacement,
  DrawStyle,
  LegendDisplayMode,
  LineInterpolation,
  PointVisibility,
  TimeSeries,
  TooltipPlugin2,
  useStyles2,
  useTheme2,
} from '@grafana/ui';

import { FrequencyAnswer, Source } from '../../api/types';
import { useWidth } from '../../components/useWidth';
import { testIds } from '../../testIds';

export const SOURCE_COLORS: Record<Source, string> = {
  cmd: 'blue',
  net: 'orange',
  kube_exec: 'green',
};

interface Props {
  data?: FrequencyAnswer;
  /** The sources to draw. */
  sources: Source[];
  height?: number;
  /** A drag across the graph: the new range, Unix ms. */
  onZoom: (range: { from: number; to: number }) => void;
}

// TooltipHoverMode.xAll of @grafana/ui (a const enum: not importable at run time).
const HOVER_X_ALL = 1;

/** Turns /frequency into one frame: time plus a count field per source. */
export function frequencyFrame(data: FrequencyAnswer, sources: Source[]): DataFrame {
  // Points sit in the middle of their bucket, so a drag over a spike selects the spike.
  const half = data.step / 2;
  return createDataFrame({
    name: 'frequency',
    fields: [
      { name: 'time', type: FieldType.time, values: data.times.map((t) => t + half), config: {} },
      ...data.series
        .filter((s) => sources.includes(s.source))
        .map((s) => ({
          name: s.source,
          type: FieldType.number,
          values: s.counts,
          config: {
            displayName: s.title,
            unit: 'short',
            decimals: 0,
            min: 0,
            color: { mode: FieldColorModeId.Fixed, fixedColor: SOURCE_COLORS[s.source] },
            custom: {
              drawStyle: DrawStyle.Line,
              lineInterpolation: LineInterpolation.Linear,
              lineWidth: 2,
              fillOpacity: 12,
              showPoints: PointVisibility.Auto,
              pointSize: 4,
              axisPlacement: AxisPlacement.Auto,
              axisSoftMin: 0,
              spanNulls: false,
            },
          },
        })),
    ],
  });
}

/**
 * The frequency graph: activity per data source over the range, built
 * from @grafana/ui's TimeSeries (Grafana's panels do not render outside
 * Grafana). Dragging across it zooms the time range.
 */
export function FrequencyGraph({ data, sources, height = 180, onZoom }: Props) {
  const styles = useStyles2(getStyles);
  const ref = useRef<HTMLDivElement>(null);
  const width = useWidth(ref);
  const theme = useTheme2();
  // As a panel gets them: with display processors for values and colors.
  const frames = useMemo(
    () =>
      data
        ? applyFieldOverrides({
            data: [frequencyFrame(data, sources)],
            fieldConfig: { defaults: {}, overrides: [] },
            replaceVariables: (v) => v,
            theme,
            timeZone: 'browser',
          })
        : [],
    [data, sources, theme]
  );
  const timeRange: TimeRange | undefined = useMemo(
    () => (data ? { from: dateTime(data.from), to: dateTime(data.to), raw: { from: dateTime(data.from), to: dateTime(data.to) } } : undefined),
    [data]
  );

  return (
    <div ref={ref} className={styles.wrapper} data-testid={testIds.audit.graph} style={{ height }} data-step={data?.step} data-total={data?.total}>
      {data && timeRange && width > 0 && frames[0].fields.length > 1 && (
        <TimeSeries
          frames={frames}
          width={width}
          height={height}
          timeRange={timeRange}
          timeZone="browser"
          legend={{ showLegend: true, displayMode: LegendDisplayMode.List, placement: 'bottom', calcs: [] }}
        >
          {(config) => (
            <TooltipPlugin2
              config={config}
              hoverMode={HOVER_X_ALL as never}
              queryZoom={(r) => onZoom({ from: Math.round(r.from), to: Math.round(r.to) })}
              render={(_u, idxs) => <Tooltip data={data} sources={sources} idx={idxs[0]} />}
            />
          )}
        </TimeSeries>
      )}
      {data && frames[0]?.fields.length === 1 && <div className={styles.empty}>Select a data source to see its activity.</div>}
    </div>
  );
}

function Tooltip({ data, sources, idx }: { data: FrequencyAnswer; sources: Source[]; idx: number | null }) {
  const styles = useStyles2(getStyles);
  if (idx === null || idx === undefined) {
    return null;
  }
  const start = data.times[idx];
  const end = Math.min(start + data.step, data.to);
  return (
    <div className={styles.tooltip}>
      <div className={styles.tooltipTitle}>
        {dateTime(start).format('YYYY-MM-DD HH:mm:ss')} – {dateTime(end).format('HH:mm:ss')}
      </div>
      {data.series
        .filter((s) => sources.includes(s.source))
        .map((s) => (
          <div key={s.source} className={styles.tooltipRow}>
            <span>{s.title}</span>
            <b>{s.counts[idx]}</b>
          </div>
        ))}
    </div>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  wrapper: css({ position: 'relative', width: '100%', minWidth: 0 }),
  empty: css({ color: theme.colors.text.secondary, padding: theme.spacing(2) }),
  tooltip: css({ padding: theme.spacing(1), minWidth: 200 }),
  tooltipTitle: css({ color: theme.colors.text.secondary, marginBottom: theme.spacing(0.5) }),
  tooltipRow: css({ display: 'flex', justifyContent: 'space-between', gap: theme.spacing(2) }),
});
