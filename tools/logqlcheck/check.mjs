#!/usr/bin/env node
// logqlcheck — parse golden LogQL queries with Grafana's own LogQL grammar
// (@grafana/lezer-logql 0.4.2, the grammar behind Grafana's Loki query
// editor) and fail on any error node.
//
// Usage: node check.mjs [--cases FILE] PATH...
//   PATH   a .logql file (one query; one trailing newline is not part of it)
//          or a directory searched recursively for *.logql files
//          (node_modules and .git directories are not entered).
//   --cases FILE
//          a JSON array of recorded Loki requests/responses
//          (testdata/loki/cases.json): every request.params.query and
//          request.params["match[]"] is checked too; see checkCase below for
//          how recorded 400 answers are treated.
// Exit status: 0 all clean; 1 some query has an error node (each is printed
// with its path, the query, the offset of the first error node and a caret
// line under it); 2 usage error, unreadable input, or nothing to check (no
// .logql file found under the PATHs given).
//
// Grammar vs. Loki — found by running the same queries through this grammar
// and through Loki 3.7.6's own parser (pkg/logql/syntax.ParseExpr); the list
// with more detail is in README.md. The compiler must emit only forms BOTH
// accept; this check catches only the first kind below.
//
// Rejected by the grammar although Loki accepts them (never emit these):
//   - a bare zero range `[0]` (write `[0s]`, or better no zero range at all);
//   - `vector` or `label_replace`, in any letter case, as a label or field
//     name (selector, label filter, `| json vector`, `by (vector)`, `keep`);
//   - range-function names not in lower case: `COUNT_OVER_TIME(`, `Rate(`
//     (`SUM`, `BY`, `JSON`, `OR` in upper case are accepted by both).
// Accepted by the grammar although Loki rejects them (this check can NOT
// catch these — the compiler must avoid them itself):
//   - range durations with a fraction or the units ns/us/µs (`[1.5h]`,
//     `[500us]`), blanks inside the brackets (`[ 5m ]`), or a value that
//     overflows; Loki parses ranges with Prometheus rules: integer y w d h m s
//     ms parts in that order (`[1h30m]`, `[900000ms]`, `[86400s]`, `[15m]`,
//     `[1d12h]` are fine with both). `offset` durations are more lenient in
//     Loki (Go durations: `offset 1.5h` is fine with both);
//   - backslash escapes Go does not know inside "..." strings: `"\d"`,
//     `"\'"`, `"\/"`, `"\z"`, short `"\u00"`, bad `"\xZZ"` (Loki: "invalid
//     char escape"). Escape a backslash as `\\` or use a `raw` string;
//   - label names that are Loki keywords: by, without, and, or, unless,
//     variants, of; and names containing ':' (`{a:b="x"}`);
//   - semantic errors: a selector whose every matcher is empty-compatible
//     (`{job=~".*"}`, `{job!="a"}`), an invalid regular expression,
//     `topk(0, …)` / `topk(1.5, …)`, a log query sent as an instant query.
// Both accept `| json comm, cmdline`, `| json comm="comm"`, and the two mixed
// (`| json comm, c="cmdline"`); both reject `| json --strict` and
// `| json comm=comm`.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parser } from '@grafana/lezer-logql';

export const USAGE = 'usage: node check.mjs [--cases FILE] PATH...\n' +
  '  PATH: a .logql file or a directory searched recursively for *.logql files\n' +
  '  --cases FILE: also check the queries of a JSON array of recorded Loki cases';

class UsageError extends Error {}

/**
 * Parses one query. Returns null when the tree has no error node, otherwise
 * { offset } of the first error node in document order (offset counts
 * UTF-16 code units, as JavaScript string indices do).
 */
export function firstError(query) {
  let tree;
  try {
    tree = parser.parse(query);
  } catch (e) {
    return { offset: 0, crash: String(e && e.message ? e.message : e) };
  }
  let offset = null;
  tree.iterate({
    enter(node) {
      if (offset !== null) return false;
      if (node.type.isError) {
        offset = node.from;
        return false;
      }
      return undefined;
    },
  });
  return offset === null ? null : { offset };
}

/** The query held by a golden file's text: one trailing newline is dropped. */
export function queryFromFileText(text) {
  return text.replace(/\r?\n$/, '');
}

/** 1-based line and column (in code points) of a string offset. */
export function lineCol(text, offset) {
  const before = text.slice(0, offset);
  const lines = before.split('\n');
  return { line: lines.length, column: Array.from(lines[lines.length - 1]).length + 1 };
}

/**
 * The query, indented, with a caret line under the line holding the error.
 * Tabs before the error are kept so the caret lines up.
 */
export function caretBlock(query, offset, indent = '    ') {
  const lines = query.split('\n');
  const { line, column } = lineCol(query, offset);
  const errLine = lines[line - 1];
  const prefix = Array.from(errLine).slice(0, column - 1)
    .map((ch) => (ch === '\t' ? '\t' : ' ')).join('');
  const out = [];
  lines.forEach((l, i) => {
    out.push(indent + l);
    if (i === line - 1) out.push(indent + prefix + '^');
  });
  return out.join('\n');
}

function describe(query, err) {
  if (err.crash) return `the parser failed: ${err.crash}`;
  const { line, column } = lineCol(query, err.offset);
  const rest = query.slice(err.offset);
  let near;
  if (query.trim() === '') near = 'empty query';
  else if (rest.trim() === '') near = 'at end of query';
  else {
    const cps = Array.from(rest);
    near = `at ${JSON.stringify(cps.slice(0, 12).join('') + (cps.length > 12 ? '…' : ''))}`;
  }
  return `error node at offset ${err.offset} (line ${line}, column ${column}), ${near}`;
}

/** A printable report for a query with an error. */
export function formatFailure(label, query, err, extra = '') {
  return `${label}: ${describe(query, err)}${extra ? `\n    ${extra}` : ''}\n${caretBlock(query, err.offset)}`;
}

const SKIP_DIRS = new Set(['node_modules', '.git']);

/** Every *.logql file under dir, sorted, paths joined onto dir as given. */
function walk(dir, out) {
  let entries;
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    throw new UsageError(`cannot read directory ${dir}: ${e.message}`);
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const ent of entries) {
    const p = path.join(dir, ent.name);
    if (ent.isDirectory()) {
      if (!SKIP_DIRS.has(ent.name)) walk(p, out);
    } else if (ent.name.endsWith('.logql')) {
      // Regular files and symlinks to files; symlinked directories are not
      // followed (no loops).
      let st;
      try { st = fs.statSync(p); } catch { continue; }
      if (st.isFile()) out.push(p);
    }
  }
}

export function collectFiles(paths) {
  const files = [];
  const seen = new Set();
  for (const p of paths) {
    let st;
    try {
      st = fs.statSync(p);
    } catch {
      throw new UsageError(`no such file or directory: ${p}`);
    }
    const found = [];
    if (st.isDirectory()) walk(p, found);
    else if (st.isFile()) {
      if (!p.endsWith('.logql')) throw new UsageError(`not a .logql file: ${p}`);
      found.push(p);
    } else throw new UsageError(`not a file or directory: ${p}`);
    for (const f of found) {
      const key = path.resolve(f);
      if (!seen.has(key)) { seen.add(key); files.push(f); }
    }
  }
  return files;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Checks golden files; returns { parsed, failures: [string] }. */
export function checkFiles(files) {
  const failures = [];
  let parsed = 0;
  for (const f of files) {
    let text;
    try {
      text = decoder.decode(fs.readFileSync(f));
    } catch (e) {
      if (e instanceof TypeError) {
        // Loki rejects invalid UTF-8 too ("invalid UTF-8 rune").
        failures.push(`${f}: not valid UTF-8`);
        continue;
      }
      throw new UsageError(`cannot read ${f}: ${e.message}`);
    }
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    const query = queryFromFileText(text);
    parsed++;
    const err = firstError(query);
    if (err) failures.push(formatFailure(f, query, err));
  }
  return { parsed, failures };
}

/** The message of a recorded error body (Loki answers 400 with plain text). */
function errorMessage(body) {
  if (typeof body === 'string') return body.trim();
  if (body && typeof body === 'object') {
    for (const k of ['message', 'error']) if (typeof body[k] === 'string') return body[k].trim();
  }
  return JSON.stringify(body);
}

// Loki's lexer and yacc parser report syntax errors as
// "parse error at line L, col C: ..."; checks done after parsing (matchers
// that all match the empty string, regexp compilation, topk's parameter) say
// "parse error : ..." without a position, and the query-type check
// ("log queries are not supported as an instant query type") does not say
// "parse error" at all.
const SYNTAX_ERROR = /^parse error at line \d+, col \d+:/;

export function isSyntaxErrorMessage(msg) {
  return SYNTAX_ERROR.test(msg);
}

function queriesOf(params) {
  const out = [];
  if (!params || typeof params !== 'object') return out;
  if (typeof params.query === 'string') out.push(['query', params.query]);
  const m = params['match[]'];
  for (const q of Array.isArray(m) ? m : m === undefined ? [] : [m]) {
    if (typeof q === 'string') out.push(['match[]', q]);
  }
  return out;
}

/**
 * Checks the queries of recorded cases.
 *  - status 200: the query must parse without an error node.
 *  - status 400 (recorded bad query): the grammar must find an error node
 *    when Loki's error is a syntax error (position-bearing message, see
 *    SYNTAX_ERROR). When Loki's error is semantic the grammar cannot be
 *    expected to see it — `{job="x"}` is well-formed, it only may not be
 *    sent as an instant query — so a clean parse is a note, not a failure.
 *    A semantic error the grammar rejects anyway (`{}`: its Matchers rule
 *    needs one matcher) is simply rejected as recorded.
 *  - any other status, or a case with no query: skipped (counted).
 * Returns { parsed, failures, notes, rejected, skipped }.
 */
export function checkCases(cases, label = 'cases') {
  const res = { parsed: 0, failures: [], notes: [], rejected: 0, skipped: 0 };
  cases.forEach((c, i) => {
    const name = c && typeof c.name === 'string' ? c.name : `#${i}`;
    const status = c && c.response ? c.response.status : undefined;
    const qs = queriesOf(c && c.request ? c.request.params : undefined);
    if (qs.length === 0 || (status !== 200 && status !== 400)) {
      res.skipped++;
      return;
    }
    for (const [param, q] of qs) {
      const where = `${label}: case ${JSON.stringify(name)} (${param}, status ${status})`;
      res.parsed++;
      const err = firstError(q);
      if (status === 200) {
        if (err) res.failures.push(formatFailure(where, q, err));
        continue;
      }
      const msg = errorMessage(c.response.body);
      if (err) {
        res.rejected++;
      } else if (isSyntaxErrorMessage(msg)) {
        res.failures.push(`${where}: Loki reported a syntax error but the grammar finds no error node\n` +
          `    Loki: ${msg}\n    ${q}`);
      } else {
        res.notes.push(`${where}: grammar accepts it; Loki's error is semantic, not syntactic\n` +
          `    Loki: ${msg}\n    ${q}`);
      }
    }
  });
  return res;
}

function loadCases(file) {
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read cases file ${file}: ${e.message}`);
  }
  let data;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`cases file ${file} is not JSON: ${e.message}`);
  }
  if (!Array.isArray(data)) throw new UsageError(`cases file ${file} is not a JSON array`);
  return data;
}

export function parseArgs(argv) {
  const paths = [];
  const cases = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') { paths.push(...argv.slice(i + 1)); break; }
    if (a === '-h' || a === '--help') help = true;
    else if (a === '--cases') {
      if (i + 1 >= argv.length) throw new UsageError('--cases needs a FILE');
      cases.push(argv[++i]);
    } else if (a.startsWith('--cases=')) {
      const v = a.slice('--cases='.length);
      if (!v) throw new UsageError('--cases needs a FILE');
      cases.push(v);
    } else if (a.startsWith('-') && a !== '-') throw new UsageError(`unknown option: ${a}`);
    else paths.push(a);
  }
  if (!help && paths.length === 0 && cases.length === 0) throw new UsageError('no PATH given');
  return { paths, cases, help };
}

/** Runs the check; returns the exit code. out/err take one string per call. */
export function main(argv, out = (s) => process.stdout.write(s + '\n'), err = (s) => process.stderr.write(s + '\n')) {
  try {
    const opts = parseArgs(argv);
    if (opts.help) { out(USAGE); return 0; }
    const files = collectFiles(opts.paths);
    if (opts.paths.length > 0 && files.length === 0) {
      err(`logqlcheck: no .logql file found under ${opts.paths.join(', ')}; a check that checks nothing fails`);
      return 2;
    }
    const caseSets = opts.cases.map((f) => [f, loadCases(f)]);

    const fileRes = checkFiles(files);
    let parsed = fileRes.parsed;
    const failures = [...fileRes.failures];
    for (const [f, data] of caseSets) {
      const r = checkCases(data, f);
      if (r.parsed === 0) {
        err(`logqlcheck: no query found in cases file ${f}; a check that checks nothing fails`);
        return 2;
      }
      parsed += r.parsed;
      failures.push(...r.failures);
      for (const n of r.notes) out(`note: ${n}`);
      out(`logqlcheck: ${f}: ${r.parsed} case queries, ${r.rejected} recorded bad queries rejected as expected, ` +
        `${r.notes.length} notes, ${r.skipped} cases skipped (no query, or a status other than 200/400)`);
    }
    for (const f of failures) out(f);
    out(`logqlcheck: ${parsed} queries parsed, ${failures.length} with errors`);
    return failures.length === 0 ? 0 : 1;
  } catch (e) {
    if (e instanceof UsageError) {
      err(`logqlcheck: ${e.message}`);
      err(USAGE);
      return 2;
    }
    throw e;
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
