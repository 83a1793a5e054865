// Editing filter text (ARCHITECTURE.md "Filter language") without parsing
// it for meaning: the backend's parser is the one definition of the
// language. This only splits text into terms so that +/- and the groupings
// can write canonical terms: name op "value", values double-quoted with \" and \\.

export type Op = '=' | '!=' | '=~' | '!~';

export interface Term {
  field: string;
  op: Op;
  value: string;
  /** Where the term lies in the text: [start, end). */
  start: number;
  end: number;
}

/** Quotes a value as the filter language does. */
export function quote(value: string): string {
  return '"' + value.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';
}

/** The canonical text of a term: comm="bash". */
export function termText(field: string, op: Op, value: string): string {
  return `${field}${op}${quote(value)}`;
}

const nameRe = /[A-Za-z_][A-Za-z0-9_.]*/y;
const opRe = /!=|!~|=~|=/y;

/**
 * Splits filter text into terms; null when the text is not a sequence of
 * well-formed terms (the backend then says where and why).
 */
export function splitTerms(text: string): Term[] | null {
  const terms: Term[] = [];
  let i = 0;
  const n = text.length;
  while (true) {
    while (i < n && /\s/.test(text[i])) {
      i++;
    }
    if (i >= n) {
      return terms;
    }
    const start = i;
    nameRe.lastIndex = i;
    const name = nameRe.exec(text);
    if (!name) {
      return null;
    }
    i = nameRe.lastIndex;
    opRe.lastIndex = i;
    const op = opRe.exec(text);
    if (!op) {
      return null;
    }
    i = opRe.lastIndex;
    if (text[i] !== '"') {
      return null;
    }
    i++;
    let value = '';
    let closed = false;
    while (i < n) {
      const c = text[i];
      if (c === '\\' && i + 1 < n) {
        value += text[i + 1];
        i += 2;
        continue;
      }
      if (c === '"') {
        closed = true;
        i++;
        break;
      }
      value += c;
      i++;
    }
    if (!closed || (i < n && !/\s/.test(text[i]))) {
      return null;
    }
    terms.push({ field: name[0], op: op[0] as Op, value, start, end: i });
  }
}

function opposite(op: Op): Op {
  switch (op) {
    case '=':
      return '!=';
    case '!=':
      return '=';
    case '=~':
      return '!~';
    case '!~':
      return '=~';
  }
}

function join(parts: string[]): string {
  return parts.filter((p) => p.trim() !== '').join(' ');
}

function without(text: string, terms: Term[], drop: (t: Term) => boolean): string {
  const kept = terms.filter((t) => !drop(t)).map((t) => text.slice(t.start, t.end));
  return join(kept);
}

/**
 * Adds a term, as the detail view's + and - do: an exact duplicate is not
 * added twice, and the opposite term (comm!="x" for comm="x") is replaced.
 */
export function addTerm(text: string, field: string, op: Op, value: string): string {
  const t = termText(field, op, value);
  const terms = splitTerms(text);
  if (terms === null) {
    return join([text.trim(), t]);
  }
  if (terms.some((x) => x.field === field && x.op === op && x.value === value)) {
    return join(terms.map((x) => text.slice(x.start, x.end)));
  }
  const rest = without(text, terms, (x) => x.field === field && x.op === opposite(op) && x.value === value);
  return join([rest, t]);
}

/** Whether the filter holds exactly this term. */
export function hasTerm(text: string, field: string, op: Op, value: string): boolean {
  const terms = splitTerms(text);
  return !!terms?.some((x) => x.field === field && x.op === op && x.value === value);
}

/** Removes every term on the fields. */
export function removeFields(text: string, fields: string[]): string {
  const terms = splitTerms(text);
  if (terms === null) {
    return text.trim();
  }
  return without(text, terms, (x) => fields.includes(x.field));
}

/**
 * Scopes the filter to a node of the groupings: the include terms of the
 * grouping's fields are replaced by the node's path (its "filter"); every
 * other term stays.
 */
export function scopeTo(text: string, groupingFields: string[], nodeFilter: string): string {
  const terms = splitTerms(text);
  if (terms === null) {
    return join([text.trim(), nodeFilter]);
  }
  const rest = without(text, terms, (x) => groupingFields.includes(x.field) && x.op === '=');
  return join([rest, nodeFilter]);
}

/** The include (=) values the filter gives a field. */
export function includedValues(text: string, field: string): string[] {
  const terms = splitTerms(text) ?? [];
  return terms.filter((t) => t.field === field && t.op === '=').map((t) => t.value);
}

/** What the text around the caret is, for autocompletion. */
export type CaretContext =
  | { kind: 'name'; prefix: string; start: number; end: number }
  | { kind: 'value'; field: string; op: Op; prefix: string; start: number; end: number }
  | { kind: 'none' };

/**
 * Says what is being typed at the caret: an attribute name (prefix so far)
 * or the value of `field op "…` (prefix so far, unescaped). start and end
 * are the span a completion replaces.
 */
export function caretContext(text: string, caret: number): CaretContext {
  // Walk the terms before the caret to know whether the caret is in a quoted value.
  let i = 0;
  while (i < caret) {
    while (i < caret && /\s/.test(text[i])) {
      i++;
    }
    if (i >= caret) {
      break;
    }
    const start = i;
    nameRe.lastIndex = i;
    const name = nameRe.exec(text);
    if (!name || nameRe.lastIndex >= caret) {
      // Typing a name.
      const end = name ? Math.max(nameRe.lastIndex, caret) : caret;
      const prefix = text.slice(start, caret);
      return /^[A-Za-z0-9_.]*$/.test(prefix) ? { kind: 'name', prefix, start, end } : { kind: 'none' };
    }
    i = nameRe.lastIndex;
    opRe.lastIndex = i;
    const op = opRe.exec(text);
    if (!op) {
      return { kind: 'none' };
    }
    i = opRe.lastIndex;
    if (i > caret) {
      return { kind: 'none' };
    }
    if (i === caret || text[i] !== '"') {
      if (i === caret) {
        return { kind: 'value', field: name[0], op: op[0] as Op, prefix: '', start: i, end: valueEnd(text, i) };
      }
      return { kind: 'none' };
    }
    const vstart = i;
    i++;
    let value = '';
    let closed = false;
    while (i < text.length) {
      if (i >= caret && !closed) {
        return { kind: 'value', field: name[0], op: op[0] as Op, prefix: value, start: vstart, end: valueEnd(text, vstart) };
      }
      const c = text[i];
      if (c === '\\' && i + 1 < text.length) {
        value += text[i + 1];
        i += 2;
        continue;
      }
      if (c === '"') {
        closed = true;
        i++;
        break;
      }
      value += c;
      i++;
    }
    if (!closed) {
      return { kind: 'value', field: name[0], op: op[0] as Op, prefix: value, start: vstart, end: text.length };
    }
    if (i === caret) {
      return { kind: 'none' }; // just after a closing quote
    }
  }
  return { kind: 'name', prefix: '', start: caret, end: caret };
}

/** End of a (possibly unterminated) quoted value starting at i. */
function valueEnd(text: string, i: number): number {
  if (text[i] !== '"') {
    let j = i;
    while (j < text.length && !/\s/.test(text[j])) {
      j++;
    }
    return j;
  }
  let j = i + 1;
  while (j < text.length) {
    if (text[j] === '\\') {
      j += 2;
      continue;
    }
    if (text[j] === '"') {
      return j + 1;
    }
    j++;
  }
  return text.length;
}

/** Replaces [start, end) with insert; returns the text and the caret after it. */
export function splice(text: string, start: number, end: number, insert: string): { text: string; caret: number } {
  return { text: text.slice(0, start) + insert + text.slice(end), caret: start + insert.length };
}
