import { css, cx } from '@emotion/css';
import { KeyboardEvent, useEffect, useMemo, useRef, useState } from 'react';
import { GrafanaTheme2 } from '@grafana/data';
import { Button, Icon, Input, useStyles2 } from '@grafana/ui';

import { api, Scope } from '../../api/client';
import { FieldInfo } from '../../api/types';
import { caretContext, CaretContext, quote, removeFields, splice } from '../../state/filter';
import { testIds } from '../../testIds';

export interface FilterError {
  /** The filter text the error is about. */
  text: string;
  message: string;
  /** 1-based character column. */
  column?: number;
  suggestion?: string;
}

interface Props {
  /** The applied filter (from the URL). */
  value: string;
  fields: FieldInfo[];
  /** Scope for value suggestions: range and sources. */
  scope: Scope;
  error?: FilterError;
  busy?: boolean;
  onApply: (text: string) => void;
}

interface Suggestion {
  label: string;
  detail?: string;
  insert: string;
  /** Replace [start, end) of the text. */
  start: number;
  end: number;
  /** Caret offset inside insert after accepting (default its end). */
  caretAt?: number;
}

const MAX_SUGGESTIONS = 12;

/**
 * The typed filter: Sysdig's syntax (comm="grep", comm!="grep", =~, !~),
 * autocompletion of attribute names (GET /fields) and of their most
 * frequent values in scope (GET /values/{field}), and the backend's
 * positioned error under the text.
 */
export function FilterBox({ value, fields, scope, error, busy, onApply }: Props) {
  const styles = useStyles2(getStyles);
  const [text, setText] = useState(value);
  const [caret, setCaret] = useState(0);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const [values, setValues] = useState<{ key: string; items: Suggestion[] }>({ key: '', items: [] });
  const inputRef = useRef<HTMLInputElement>(null);

  // The URL is the truth: back/forward and +/- change the applied filter.
  useEffect(() => setText(value), [value]);

  const ctx: CaretContext = useMemo(() => (open ? caretContext(text, caret) : { kind: 'none' }), [text, caret, open]);

  const nameSuggestions = useMemo<Suggestion[]>(() => {
    if (ctx.kind !== 'name') {
      return [];
    }
    const p = ctx.prefix.toLowerCase();
    const usable = fields.filter((f) => f.filterable);
    const starts = usable.filter((f) => f.name.startsWith(p));
    const contains = usable.filter((f) => !f.name.startsWith(p) && f.name.includes(p));
    return [...starts, ...contains].slice(0, MAX_SUGGESTIONS).map((f) => ({
      label: f.name,
      detail: f.description,
      insert: `${f.name}=""`,
      caretAt: f.name.length + 2,
      start: ctx.start,
      end: ctx.end,
    }));
  }, [ctx, fields]);

  // Values of the attribute being typed, within the range, sources and
  // the applied filter less that attribute's own terms.
  const valueKey = ctx.kind === 'value' ? `${ctx.field}\u0000${ctx.prefix}\u0000${scope.from}\u0000${scope.to}` : '';
  useEffect(() => {
    if (ctx.kind !== 'value' || !fields.some((f) => f.name === ctx.field && f.filterable)) {
      return;
    }
    const { field, prefix, start, end } = ctx;
    const ctl = new AbortController();
    const t = setTimeout(() => {
      api
        .values(field, { ...scope, filter: removeFields(value, [field]) }, { prefix, limit: MAX_SUGGESTIONS }, ctl.signal)
        .then(
          (ans) =>
            setValues({
              key: valueKey,
              items: ans.values.map((v) => ({
                label: v.value,
                detail: `${v.count}`,
                insert: quote(v.value) + ' ',
                start,
                end,
              })),
            }),
          () => setValues({ key: valueKey, items: [] })
        );
    }, 150);
    return () => {
      clearTimeout(t);
      ctl.abort();
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [valueKey]);

  const suggestions = ctx.kind === 'name' ? nameSuggestions : ctx.kind === 'value' && values.key === valueKey ? values.items : [];
  const showList = open && suggestions.length > 0;

  useEffect(() => setActive(0), [suggestions.length, ctx.kind]);

  const accept = (s: Suggestion) => {
    const next = splice(text, s.start, s.end, s.insert);
    const c = s.caretAt !== undefined ? s.start + s.caretAt : next.caret;
    setText(next.text);
    setCaret(c);
    requestAnimationFrame(() => {
      inputRef.current?.focus();
      inputRef.current?.setSelectionRange(c, c);
    });
  };

  const onKeyDown = (e: KeyboardEvent<HTMLInputElement>) => {
    if (showList) {
      if (e.key === 'ArrowDown') {
        e.preventDefault();
        setActive((a) => (a + 1) % suggestions.length);
        return;
      }
      if (e.key === 'ArrowUp') {
        e.preventDefault();
        setActive((a) => (a - 1 + suggestions.length) % suggestions.length);
        return;
      }
      if (e.key === 'Tab' || (e.key === 'Enter' && !e.ctrlKey && !e.metaKey)) {
        e.preventDefault();
        accept(suggestions[active]);
        return;
      }
      if (e.key === 'Escape') {
        e.preventDefault();
        setOpen(false);
        return;
      }
    }
    if (e.key === 'Enter') {
      e.preventDefault();
      setOpen(false);
      onApply(text);
    }
  };

  const syncCaret = () => setCaret(inputRef.current?.selectionStart ?? text.length);
  const shownError = error && error.text === text ? error : undefined;

  return (
    <div className={styles.wrapper}>
      <div className={styles.row}>
        <div className={styles.inputWrap}>
          <Input
            ref={inputRef}
            data-testid={testIds.audit.filterInput}
            aria-label="Filter"
            prefix={<Icon name="filter" />}
            placeholder='Filter, e.g. comm!="bash" namespace="shop" cmdline=~"curl .*"'
            value={text}
            spellCheck={false}
            autoComplete="off"
            invalid={!!shownError}
            className={styles.mono}
            onChange={(e) => {
              setText(e.currentTarget.value);
              setCaret(e.currentTarget.selectionStart ?? e.currentTarget.value.length);
              setOpen(true);
            }}
            onKeyDown={onKeyDown}
            onKeyUp={(e) => {
              // Typing moves the caret through onChange; here only the keys that move it alone.
              if (['ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(e.key)) {
                syncCaret();
              }
            }}
            onClick={() => {
              syncCaret();
              setOpen(true);
            }}
            onFocus={() => setOpen(true)}
            onBlur={() => setTimeout(() => setOpen(false), 150)}
            role="combobox"
            aria-expanded={showList}
            aria-autocomplete="list"
          />
          {showList && (
            <ul className={styles.list} role="listbox" data-testid={testIds.audit.suggestions}>
              {suggestions.map((s, i) => (
                <li
                  key={s.label}
                  role="option"
                  aria-selected={i === active}
                  className={cx(styles.item, i === active && styles.itemActive)}
                  onMouseDown={(e) => {
                    e.preventDefault();
                    accept(s);
                  }}
                  onMouseEnter={() => setActive(i)}
                >
                  <span className={styles.mono}>{s.label}</span>
                  {s.detail && <span className={styles.detail}>{s.detail}</span>}
                </li>
              ))}
            </ul>
          )}
        </div>
        <Button data-testid={testIds.audit.filterApply} icon={busy ? 'spinner' : 'search'} onClick={() => onApply(text)}>
          Apply
        </Button>
        {value !== '' && (
          <Button data-testid={testIds.audit.filterClear} variant="secondary" fill="outline" icon="times" onClick={() => onApply('')} aria-label="Clear filter">
            Clear
          </Button>
        )}
      </div>
      {shownError && <PositionedError text={shownError.text} column={shownError.column} message={shownError.message} />}
    </div>
  );
}

/** The filter text with a caret under the column the backend named. */
function PositionedError({ text, column, message }: { text: string; column?: number; message: string }) {
  const styles = useStyles2(getStyles);
  const chars = Array.from(text);
  const col = column && column > 0 ? Math.min(column, chars.length + 1) : undefined;
  return (
    <div className={styles.error} data-testid={testIds.audit.filterError} role="alert">
      {col !== undefined && (
        <pre className={styles.pre} aria-hidden>
          {chars.join('') + '\n' + ' '.repeat(col - 1) + '^'}
        </pre>
      )}
      <div>{message}</div>
    </div>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  wrapper: css({ display: 'flex', flexDirection: 'column', gap: theme.spacing(0.5), flex: 1, minWidth: 0 }),
  row: css({ display: 'flex', gap: theme.spacing(1), alignItems: 'center' }),
  inputWrap: css({ position: 'relative', flex: 1, minWidth: 0 }),
  mono: css({ fontFamily: theme.typography.fontFamilyMonospace }),
  list: css({
    position: 'absolute',
    zIndex: theme.zIndex.dropdown,
    top: '100%',
    left: 0,
    right: 0,
    margin: 0,
    padding: theme.spacing(0.5, 0),
    listStyle: 'none',
    background: theme.colors.background.elevated,
    border: `1px solid ${theme.colors.border.weak}`,
    boxShadow: theme.shadows.z3,
    borderRadius: theme.shape.radius.default,
    maxHeight: 320,
    overflowY: 'auto',
  }),
  item: css({
    display: 'flex',
    justifyContent: 'space-between',
    gap: theme.spacing(2),
    padding: theme.spacing(0.5, 1),
    cursor: 'pointer',
  }),
  itemActive: css({ background: theme.colors.action.hover }),
  detail: css({
    color: theme.colors.text.secondary,
    overflow: 'hidden',
    textOverflow: 'ellipsis',
    whiteSpace: 'nowrap',
    maxWidth: '60%',
  }),
  error: css({
    color: theme.colors.error.text,
    fontSize: theme.typography.bodySmall.fontSize,
  }),
  pre: css({
    margin: 0,
    padding: theme.spacing(0.5, 1),
    background: 'transparent',
    border: 'none',
    color: theme.colors.error.text,
    fontFamily: theme.typography.fontFamilyMonospace,
    whiteSpace: 'pre',
    overflowX: 'auto',
  }),
});
