import { describe, expect, test } from 'vitest';

import { addTerm, caretContext, hasTerm, includedValues, quote, removeFields, scopeTo, splitTerms, termText } from './filter';

describe('quote and termText', () => {
  test.each([
    ['grep', '"grep"'],
    ['say "hi"', '"say \\"hi\\""'],
    ['C:\\dir', '"C:\\\\dir"'],
    ['', '""'],
  ])('%s', (v, want) => expect(quote(v)).toBe(want));

  test('canonical terms', () => {
    expect(termText('comm', '=', 'grep')).toBe('comm="grep"');
    expect(termText('comm', '!=', 'a"b')).toBe('comm!="a\\"b"');
  });
});

describe('splitTerms', () => {
  test('terms with every operator and escapes', () => {
    const text = 'comm="grep"  comm!="ba\\"sh" cmdline=~"curl .*" comm!~"x"';
    expect(splitTerms(text)?.map((t) => [t.field, t.op, t.value, text.slice(t.start, t.end)])).toEqual([
      ['comm', '=', 'grep', 'comm="grep"'],
      ['comm', '!=', 'ba"sh', 'comm!="ba\\"sh"'],
      ['cmdline', '=~', 'curl .*', 'cmdline=~"curl .*"'],
      ['comm', '!~', 'x', 'comm!~"x"'],
    ]);
  });

  test.each(['comm', 'comm=grep', 'comm="grep', 'comm=="x"', '="x"', 'comm="a"b="c"'])('%s is not well formed', (text) =>
    expect(splitTerms(text)).toBeNull()
  );

  test('empty', () => expect(splitTerms('  ')).toEqual([]));
});

describe('addTerm (the + and - buttons)', () => {
  test.each([
    ['', 'comm', '=', 'bash', 'comm="bash"'],
    ['namespace="shop"', 'comm', '!=', 'bash', 'namespace="shop" comm!="bash"'],
    ['comm!="bash"', 'comm', '!=', 'bash', 'comm!="bash"'],
    // + on an excluded value replaces its - term, and the other way round.
    ['comm!="bash" namespace="shop"', 'comm', '=', 'bash', 'namespace="shop" comm="bash"'],
    ['comm="bash"', 'comm', '!=', 'bash', 'comm!="bash"'],
    // Several = terms on one attribute OR together: a second value is added.
    ['comm="bash"', 'comm', '=', 'sh', 'comm="bash" comm="sh"'],
    ['cmdline="a \\"b\\""', 'user', '=', 'root', 'cmdline="a \\"b\\"" user="root"'],
    // Text that does not split: the term is appended, the backend judges.
    ['comm=="x"', 'user', '=', 'root', 'comm=="x" user="root"'],
  ] as const)('%s + %s%s%s', (text, f, op, v, want) => expect(addTerm(text, f, op, v)).toBe(want));

  test('hasTerm', () => {
    expect(hasTerm('comm!="bash"', 'comm', '!=', 'bash')).toBe(true);
    expect(hasTerm('comm!="bash"', 'comm', '=', 'bash')).toBe(false);
  });
});

describe('scopeTo (clicking a grouping node)', () => {
  const fields = ['namespace', 'workload', 'pod'];
  test.each([
    ['', 'namespace="shop"', 'namespace="shop"'],
    ['comm!="bash" namespace="kube-system"', 'namespace="shop" workload="web"', 'comm!="bash" namespace="shop" workload="web"'],
    ['namespace!="shop"', 'namespace="kube-system"', 'namespace!="shop" namespace="kube-system"'],
  ])('%s → %s', (text, node, want) => expect(scopeTo(text, fields, node)).toBe(want));
});

test('removeFields and includedValues', () => {
  expect(removeFields('source="cmd" comm="x" source="net"', ['source'])).toBe('comm="x"');
  expect(includedValues('source="cmd" source!="net" source="kube_exec"', 'source')).toEqual(['cmd', 'kube_exec']);
});

describe('caretContext (autocompletion)', () => {
  test.each([
    ['', 0, { kind: 'name', prefix: '' }],
    ['com', 3, { kind: 'name', prefix: 'com', start: 0, end: 3 }],
    ['comm="x" na', 11, { kind: 'name', prefix: 'na', start: 9 }],
    ['comm=', 5, { kind: 'value', field: 'comm', op: '=', prefix: '' }],
    ['comm!="ba', 9, { kind: 'value', field: 'comm', op: '!=', prefix: 'ba', start: 6, end: 9 }],
    ['comm=""', 6, { kind: 'value', field: 'comm', prefix: '', start: 5, end: 7 }],
    ['comm="bash" ', 12, { kind: 'name', prefix: '' }],
    ['comm="bash"', 11, { kind: 'none' }],
  ] as const)('%s at %d', (text, caret, want) => expect(caretContext(text, caret)).toMatchObject(want));
});
