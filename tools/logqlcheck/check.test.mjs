// Tests for check.mjs; run with `npm test` (node --test).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import {
  firstError, queryFromFileText, caretBlock, checkCases, isSyntaxErrorMessage, main,
} from './check.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CHECK = path.join(HERE, 'check.mjs');
const GOOD = path.join(HERE, 'testdata', 'good');
const BAD = path.join(HERE, 'testdata', 'bad');
const REAL_CASES = path.resolve(HERE, '..', '..', 'testdata', 'loki', 'cases.json');

const logqlFiles = (dir) => fs.readdirSync(dir).filter((f) => f.endsWith('.logql')).sort();
const readQuery = (file) => queryFromFileText(fs.readFileSync(file, 'utf8'));

function run(args, opts = {}) {
  const r = spawnSync(process.execPath, [CHECK, ...args], { cwd: HERE, encoding: 'utf8', ...opts });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function tmpDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'logqlcheck-'));
}

// ---------------------------------------------------------------- golden data

test('good golden queries parse without error nodes', async (t) => {
  const files = logqlFiles(GOOD);
  assert.ok(files.length >= 10, `expected good examples in ${GOOD}`);
  for (const f of files) {
    await t.test(f, () => {
      const q = readQuery(path.join(GOOD, f));
      assert.equal(firstError(q), null, `${f} should parse clean:\n${q}`);
    });
  }
});

// Every file in testdata/bad must be listed here with the offset of its first
// error node, so the caret position is pinned down too.
const BAD_CASES = {
  'selector-unclosed.logql': 9, // {job="a" | json
  'filter-missing-value.logql': 24, // {job="a"} | json | comm=
  'unterminated-string.logql': 13, // {job="a"} |= "abc
  'unknown-function.logql': 4, // sum(bogus_over_time(...
  'empty-selector.logql': 1, // {}
  'range-with-blank.logql': 29, // [1h 30m]
  'range-month.logql': 26, // [5M]
  'single-quotes.logql': 5, // {job='a'}
  'empty.logql': 0, // a lone newline: the empty query
  'multi-line.logql': 29, // trailing pipe on line 3
};

test('bad golden queries have an error node at the expected offset', async (t) => {
  assert.deepEqual(logqlFiles(BAD), Object.keys(BAD_CASES).sort(), 'every bad file needs an expected offset');
  for (const [f, offset] of Object.entries(BAD_CASES)) {
    await t.test(f, () => {
      const err = firstError(readQuery(path.join(BAD, f)));
      assert.ok(err, `${f} should have an error node`);
      assert.equal(err.offset, offset);
    });
  }
});

// ------------------------------------------------------------ grammar findings

// What the grammar does with forms the compiler might emit (README.md lists
// these with what Loki 3.7.6 does). If a grammar upgrade changes one of them,
// this table fails and README.md/check.mjs need updating.
const GRAMMAR_FORMS = [
  // [query, grammar accepts?, Loki accepts?]
  ['{job="a"} | json comm, cmdline', true, true],
  ['{job="a"} | json comm="comm"', true, true],
  ['{job="a"} | json comm="comm", c="cmdline"', true, true],
  ['{job="a"} | json comm, c="cmdline"', true, true],
  ['{job="a"} | json c="a.b[0]"', true, true],
  ['{job="a"} | json comm=comm', false, false],
  ['{job="a"} | json --strict', false, false],
  ['count_over_time({job="a"}[1h30m])', true, true],
  ['count_over_time({job="a"}[900000ms])', true, true],
  ['count_over_time({job="a"}[15m])', true, true],
  ['count_over_time({job="a"}[86400s])', true, true],
  ['count_over_time({job="a"}[1d12h])', true, true],
  ['count_over_time({job="a"}[1w])', true, true],
  ['count_over_time({job="a"}[0s])', true, true],
  ['count_over_time({job="a"}[0])', false, true],
  ['count_over_time({job="a"}[1.5h])', true, false],
  ['count_over_time({job="a"}[500us])', true, false],
  ['count_over_time({job="a"}[10ns])', true, false],
  ['count_over_time({job="a"}[ 5m ])', true, false],
  ['count_over_time({job="a"}[1h 30m])', false, false],
  ['count_over_time({job="a"}[30m1h])', false, false],
  ['count_over_time({job="a"}[5M])', false, false],
  ['count_over_time({job="a"}[5])', false, false],
  ['count_over_time({job="a"}[5m] offset 1h30m)', true, true],
  ['count_over_time({job="a"}[5m] offset 1.5h)', true, true],
  ['count_over_time({job="a"} | json comm | comm!="bash" [5m])', true, true],
  ['count_over_time({job="a"}[5m] | json comm | comm!="bash")', true, true],
  ['sum(count_over_time({job="a"}[5m])) by (source)', true, true],
  ['sum by (source,) (count_over_time({job="a"}[5m]))', false, false],
  ['sum by () (count_over_time({job="a"}[5m]))', true, true],
  ['SUM BY (source) (count_over_time({job="a"}[5m]))', true, true],
  ['sum by (source) (COUNT_OVER_TIME({job="a"}[5m]))', false, true],
  ['RATE({job="a"}[5m])', false, true],
  ['{job="a"} | json | comm="a" OR comm="b"', true, true],
  ['{job="a"} | json | comm="a", cmdline="b"', true, true],
  ['{job="a"} |= "x" or "y"', true, true],
  ['{job="a",}', false, false],
  ["{job='a'}", false, false],
  ['{job=`a`}', true, true],
  ['{job="a"} |~ "\\\\d+"', true, true],
  ['{job="a"} |~ "\\d+"', true, false],
  ['{job="a"} |= "\\\'"', true, false],
  ['{job="a"} |= "\\/"', true, false],
  ['{job="a"} |= "caf\\u00e9 \\U0001F600 \\x41 \\101 \\t"', true, true],
  ['{job="a"} |= "\\u00"', true, false],
  ['{vector="a"}', false, true],
  ['{job="a"} | json | vector="a"', false, true],
  ['sum by (label_replace) (count_over_time({job="a"}[5m]))', false, true],
  ['{job="a"} | json | by="x"', true, false],
  ['{job="a"} | json | and="x"', true, false],
  ['{without="a"}', true, false],
  ['{a:b="a"}', true, false],
  ['{job="a"} | json | count="x", duration="y", bytes="z", rate="w"', true, true],
  ['{job="a"} | json | offset="x"', false, false],
  ['{job="a"} | json | json="x"', false, false],
  ['{}', false, false],
  ['{job=~".*"}', true, false],
  ['{job!="a"}', true, false],
  ['{job="a"} | json | comm=~"a[b-c"', true, false],
  ['topk(0, count_over_time({job="a"}[5m]))', true, false],
  ['vector(1)+vector(1)', true, true],
];

test('grammar findings table', async (t) => {
  for (const [q, grammarOK] of GRAMMAR_FORMS) {
    await t.test(`${grammarOK ? 'accepts' : 'rejects'} ${q}`, () => {
      assert.equal(firstError(q) === null, grammarOK);
    });
  }
});

// -------------------------------------------------------------------- helpers

test('queryFromFileText drops exactly one trailing newline', () => {
  assert.equal(queryFromFileText('{a="b"}\n'), '{a="b"}');
  assert.equal(queryFromFileText('{a="b"}\r\n'), '{a="b"}');
  assert.equal(queryFromFileText('{a="b"}'), '{a="b"}');
  assert.equal(queryFromFileText('{a="b"}\n\n'), '{a="b"}\n');
  assert.equal(queryFromFileText('\n'), '');
});

test('caretBlock points under the error, across lines and tabs', () => {
  assert.equal(caretBlock('{job="a" | json', 9, ''), '{job="a" | json\n         ^');
  const ml = '{a="b"}\n\t| json |';
  assert.equal(caretBlock(ml, ml.length, ''), '{a="b"}\n\t| json |\n\t        ^');
  assert.equal(caretBlock(ml, ml.length - 1, ''), '{a="b"}\n\t| json |\n\t       ^');
  assert.equal(firstError(ml).offset, ml.length);
  // offsets count UTF-16 units; the caret counts code points
  const q = '{a="😀"} | x=';
  assert.equal(caretBlock(q, q.length, ''), `${q}\n${' '.repeat(Array.from(q).length)}^`);
});

test('isSyntaxErrorMessage tells Loki syntax errors from semantic ones', () => {
  assert.equal(isSyntaxErrorMessage('parse error at line 1, col 23: syntax error: unexpected |, expecting } or ,'), true);
  assert.equal(isSyntaxErrorMessage('parse error at line 0, col 26: unknown unit "M" in duration "5M"'), true);
  assert.equal(isSyntaxErrorMessage('parse error : queries require at least one regexp or equality matcher'), false);
  assert.equal(isSyntaxErrorMessage('log queries are not supported as an instant query type'), false);
});

// ------------------------------------------------------------------- --cases

const mk = (name, status, params, body = '') => ({
  name, request: { method: 'GET', path: '/loki/api/v1/query_range', params }, response: { status, body },
});

const CASE_TABLE = [
  // [description, case, expected counts]
  ['200 clean query', mk('ok', 200, { query: '{job="a"} | json | comm="x"' }),
    { parsed: 1, failures: 0, notes: 0, rejected: 0, skipped: 0 }],
  ['200 query with an error node fails', mk('broken', 200, { query: '{job="a" | json' }),
    { parsed: 1, failures: 1, notes: 0, rejected: 0, skipped: 0 }],
  ['match[] string', mk('series', 200, { 'match[]': '{job="a"}' }),
    { parsed: 1, failures: 0, notes: 0, rejected: 0, skipped: 0 }],
  ['match[] array, one bad', mk('series2', 200, { 'match[]': ['{job="a"}', '{job="a"'] }),
    { parsed: 2, failures: 1, notes: 0, rejected: 0, skipped: 0 }],
  ['no query is skipped', mk('labels', 200, { start: '1' }),
    { parsed: 0, failures: 0, notes: 0, rejected: 0, skipped: 1 }],
  ['other statuses are skipped', mk('oops', 500, { query: '{job="a"}' }),
    { parsed: 0, failures: 0, notes: 0, rejected: 0, skipped: 1 }],
  ['400 syntax error the grammar sees', mk('bad', 400, { query: '{job="a" | json' },
    'parse error at line 1, col 10: syntax error: unexpected |, expecting } or ,\n'),
  { parsed: 1, failures: 0, notes: 0, rejected: 1, skipped: 0 }],
  ['400 syntax error the grammar misses fails', mk('bad-dur', 400, { query: 'count_over_time({job="a"}[1.5h])' },
    'parse error at line 0, col 26: unknown unit "." in duration "1.5h"'),
  { parsed: 1, failures: 1, notes: 0, rejected: 0, skipped: 0 }],
  ['400 semantic error the grammar accepts is a note', mk('instant', 400, { query: '{job="a"}' },
    'log queries are not supported as an instant query type, please change your query to a range query type'),
  { parsed: 1, failures: 0, notes: 1, rejected: 0, skipped: 0 }],
  ['400 semantic error the grammar rejects anyway', mk('empty', 400, { query: '{}' },
    'parse error : queries require at least one regexp or equality matcher'),
  { parsed: 1, failures: 0, notes: 0, rejected: 1, skipped: 0 }],
  ['400 with a JSON error body', mk('json-body', 400, { query: '{job=~".*"}' },
    { message: 'parse error : queries require at least one regexp or equality matcher' }),
  { parsed: 1, failures: 0, notes: 1, rejected: 0, skipped: 0 }],
];

test('checkCases', async (t) => {
  for (const [desc, c, want] of CASE_TABLE) {
    await t.test(desc, () => {
      const r = checkCases([c]);
      assert.deepEqual(
        { parsed: r.parsed, failures: r.failures.length, notes: r.notes.length, rejected: r.rejected, skipped: r.skipped },
        want,
      );
    });
  }
});

test('checkCases on the real recorded cases (testdata/loki/cases.json)', () => {
  assert.ok(fs.existsSync(REAL_CASES), `missing ${REAL_CASES}`);
  const cases = JSON.parse(fs.readFileSync(REAL_CASES, 'utf8'));
  const r = checkCases(cases);
  assert.deepEqual(r.failures, []);
  assert.ok(r.parsed > 0);
  // error-bad-logql, error-empty-selector, error-unknown-function
  assert.equal(r.rejected, cases.filter((c) => c.response.status === 400).length - r.notes.length);
  for (const n of r.notes) assert.match(n, /semantic/);
  assert.ok(r.notes.some((n) => n.includes('"error-instant-log-query"')));
});

// ------------------------------------------------------------------------ CLI

const SUMMARY = /^logqlcheck: (\d+) queries parsed, (\d+) with errors$/m;

test('CLI', async (t) => {
  const empty = tmpDir();
  const nested = tmpDir();
  fs.mkdirSync(path.join(nested, 'a', 'b'), { recursive: true });
  fs.writeFileSync(path.join(nested, 'a', 'b', 'deep.logql'), '{job="x"}\n');
  fs.writeFileSync(path.join(nested, 'a', 'not-a-query.txt'), '{job="x"\n');
  fs.mkdirSync(path.join(nested, 'node_modules'));
  fs.writeFileSync(path.join(nested, 'node_modules', 'skipped.logql'), '{job="x"\n');
  const cases400Only = path.join(tmpDir(), 'cases.json');
  fs.writeFileSync(cases400Only, JSON.stringify([mk('x', 400, { query: '{job="a"}' }, 'log queries are not supported')]));
  const noQueryCases = path.join(tmpDir(), 'none.json');
  fs.writeFileSync(noQueryCases, JSON.stringify([mk('labels', 200, {})]));
  const notArray = path.join(tmpDir(), 'obj.json');
  fs.writeFileSync(notArray, '{}');
  const nGood = logqlFiles(GOOD).length;
  const nBad = Object.keys(BAD_CASES).length;

  const table = [
    // [description, args, exit code, check(stdout, stderr)]
    ['good dir passes with the summary line', ['testdata/good'], 0, (out) => {
      assert.match(out, new RegExp(`^logqlcheck: ${nGood} queries parsed, 0 with errors$`, 'm'));
    }],
    ['bad dir fails, reporting every file', ['testdata/bad'], 1, (out) => {
      for (const f of Object.keys(BAD_CASES)) assert.ok(out.includes(path.join('testdata', 'bad', f)), f);
      assert.match(out, new RegExp(`^logqlcheck: ${nBad} queries parsed, ${nBad} with errors$`, 'm'));
    }],
    ['one bad file: path, offset, query and caret', ['testdata/bad/selector-unclosed.logql'], 1, (out) => {
      assert.ok(out.includes('testdata/bad/selector-unclosed.logql: error node at offset 9 (line 1, column 10)'), out);
      assert.ok(out.includes('    {job="a" | json\n             ^\n'), out);
    }],
    ['unterminated string', ['testdata/bad/unterminated-string.logql'], 1, (out) => {
      assert.ok(out.includes('offset 13'), out);
      assert.ok(out.includes('    {job="a"} |= "abc\n                 ^\n'), out);
    }],
    ['good and bad together fail', ['testdata/good', 'testdata/bad/filter-missing-value.logql'], 1, (out) => {
      assert.match(out, new RegExp(`^logqlcheck: ${nGood + 1} queries parsed, 1 with errors$`, 'm'));
    }],
    ['a file given twice is checked once', ['testdata/good', 'testdata/good/rate.logql'], 0, (out) => {
      assert.match(out, new RegExp(`^logqlcheck: ${nGood} queries parsed, 0 with errors$`, 'm'));
    }],
    ['recursive search, node_modules skipped, other files ignored', [nested], 0, (out) => {
      assert.match(out, /^logqlcheck: 1 queries parsed, 0 with errors$/m);
    }],
    ['empty directory: exit 2', [empty], 2, (out, err) => assert.match(err, /no \.logql file found/)],
    ['no arguments: exit 2', [], 2, (out, err) => assert.match(err, /usage:/)],
    ['unknown option: exit 2', ['--frobnicate', 'testdata/good'], 2, (out, err) => assert.match(err, /unknown option/)],
    ['missing path: exit 2', ['testdata/nope'], 2, (out, err) => assert.match(err, /no such file/)],
    ['a non-.logql file: exit 2', ['package.json'], 2, (out, err) => assert.match(err, /not a \.logql file/)],
    ['--cases without FILE: exit 2', ['testdata/good', '--cases'], 2, (out, err) => assert.match(err, /--cases needs a FILE/)],
    ['--cases file missing: exit 2', ['testdata/good', '--cases', 'nope.json'], 2, (out, err) => assert.match(err, /cannot read cases file/)],
    ['--cases not an array: exit 2', ['testdata/good', '--cases', notArray], 2, (out, err) => assert.match(err, /not a JSON array/)],
    ['--cases with no query at all: exit 2', ['--cases', noQueryCases], 2, (out, err) => assert.match(err, /no query found/)],
    ['--cases alone is allowed', ['--cases', cases400Only], 0, (out) => {
      assert.match(out, /^note: .*semantic/m);
      assert.match(out, /^logqlcheck: 1 queries parsed, 0 with errors$/m);
    }],
    ['empty dir plus --cases still fails: nothing found under the PATH', [empty, '--cases', REAL_CASES], 2, () => {}],
    ['--help', ['--help'], 0, (out) => assert.match(out, /usage:/)],
    ['real recorded cases with the good dir', ['testdata/good', '--cases', REAL_CASES], 0, (out) => {
      const m = out.match(SUMMARY);
      assert.ok(m, out);
      assert.equal(m[2], '0');
      assert.ok(Number(m[1]) > nGood);
      assert.match(out, /^note: .*"error-instant-log-query".*semantic/m);
      assert.match(out, /3 recorded bad queries rejected as expected/);
      // the summary is the last line
      assert.match(out.trimEnd().split('\n').pop(), SUMMARY);
    }],
  ];
  for (const [desc, args, code, check] of table) {
    await t.test(desc, () => {
      const r = run(args);
      assert.equal(r.code, code, `exit code for ${args.join(' ')}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
      check(r.stdout, r.stderr);
    });
  }
});

test('the CLI runs from the repository root too', () => {
  const root = path.resolve(HERE, '..', '..');
  const r = spawnSync(process.execPath,
    [path.join('tools', 'logqlcheck', 'check.mjs'), path.join('tools', 'logqlcheck', 'testdata', 'good'), '--cases', REAL_CASES],
    { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test('main() returns exit codes in-process', () => {
  const lines = [];
  const sink = (s) => lines.push(s);
  assert.equal(main([GOOD], sink, sink), 0);
  assert.equal(main([path.join(BAD, 'range-month.logql')], sink, sink), 1);
  assert.equal(main([], sink, sink), 2);
});
