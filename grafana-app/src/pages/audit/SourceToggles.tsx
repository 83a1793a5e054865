import { css } from '@emotion/css';
import { GrafanaTheme2 } from '@grafana/data';
import { Button, useStyles2 } from '@grafana/ui';

import { ALL_SOURCES, FrequencyAnswer, Source } from '../../api/types';
import { SOURCE_TITLES } from '../../state/fields';
import { testIds } from '../../testIds';

interface Props {
  selected: Source[];
  counts?: FrequencyAnswer;
  onChange: (sources: Source[]) => void;
}

/** The data sources (commands, network, kube exec) with their counts in range and filter. */
export function SourceToggles({ selected, counts, onChange }: Props) {
  const styles = useStyles2(getStyles);
  const total = (s: Source) => counts?.series.find((x) => x.source === s)?.total;
  return (
    <div className={styles.group} role="group" aria-label="Data sources">
      {ALL_SOURCES.map((s) => {
        const on = selected.includes(s);
        const n = total(s);
        return (
          <Button
            key={s}
            size="sm"
            variant={on ? 'primary' : 'secondary'}
            fill={on ? 'solid' : 'outline'}
            aria-pressed={on}
            data-testid={testIds.audit.sourceToggle(s)}
            data-count={n}
            tooltip={on && selected.length === 1 ? 'Show every data source' : on ? `Hide ${SOURCE_TITLES[s]}` : `Show ${SOURCE_TITLES[s]}`}
            onClick={(e) => {
              // Alt/Shift-click: only this source; a click on the only one shows them all.
              if (e.altKey || e.shiftKey) {
                onChange([s]);
              } else if (on) {
                onChange(selected.length === 1 ? [...ALL_SOURCES] : selected.filter((x) => x !== s));
              } else {
                onChange(ALL_SOURCES.filter((x) => x === s || selected.includes(x)));
              }
            }}
          >
            {SOURCE_TITLES[s]} <span className={styles.count}>{n === undefined ? '…' : n}</span>
          </Button>
        );
      })}
    </div>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  group: css({ display: 'flex', gap: theme.spacing(0.5), flexWrap: 'wrap' }),
  count: css({ marginLeft: theme.spacing(0.5), opacity: 0.85, fontVariantNumeric: 'tabular-nums' }),
});
