// The app in a real browser (Debian chromium, driven by playwright-core)
// against the real backend over the embedded store seeded with
// testdata/loki/dataset.json and Falcosidekick's recorded alerts. Run by
// e2e_test.go, which starts the server and sets BASE_URL, CHROMIUM and
// RESULTS_DIR. Every test saves a screenshot in RESULTS_DIR.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import path from 'node:path';
import { chromium } from 'playwright-core';

const BASE = process.env.BASE_URL;
const RESULTS = process.env.RESULTS_DIR ?? 'test-results';
const APP = '/a/activityaudit-app';
const API = '/api/plugins/activityaudit-app/resources';

// dataset.json: 95 records between 10:00:05 and 10:05:43 on 2026-11-26 UTC.
const FROM = 1795687200000; // 10:00
const TO = 1795688400000; // 10:20
const AT1600 = 1795708800000; // 16:00, after Falcosidekick's alerts
const SESSION = 'node-a:1795687500000000000:9001';
const POD = 'woocommerce-6877958-x2b4q';
const CONTAINER = 'a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1';

const auditURL = (q = '') => `${BASE}${APP}/audit?from=${FROM}&to=${TO}${q}`;

let browser;
let page;
/** Console errors and uncaught exceptions, with the test they happened in. */
const consoleErrors = [];
/** Every resource request the page made: URL objects. */
const requests = [];
let current = '';

async function apiGet(p, params = {}) {
  const u = new URL(BASE + API + p);
  for (const [k, v] of Object.entries(params)) {
    u.searchParams.set(k, String(v));
  }
  const res = await fetch(u);
  assert.equal(res.status, 200, `${u}: ${res.status}`);
  return res.json();
}

async function shot(name) {
  await page.screenshot({ path: path.join(RESULTS, `${name}.png`), fullPage: true });
}

function search() {
  return new URL(page.url()).searchParams;
}

/** Waits until the table has loaded the URL's scope and returns its rows' count. */
async function tableRows() {
  await page.waitForFunction(() => document.querySelector('[data-testid="aa-table"]')?.getAttribute('data-loading') === 'false');
  return Number(await page.getByTestId('aa-table').getAttribute('data-rows'));
}

/** Waits for n rows (after any load), then checks them. */
async function expectRows(n) {
  await page
    .waitForFunction(
      (n) => {
        const t = document.querySelector('[data-testid="aa-table"]');
        return t?.getAttribute('data-loading') === 'false' && t.getAttribute('data-rows') === String(n);
      },
      n,
      { timeout: 5000 }
    )
    .catch(() => undefined);
  assert.equal(await tableRows(), n);
}

async function groupCount(field, value) {
  const node = page.getByTestId(`aa-group-${field}-${value}`);
  await node.waitFor();
  return Number(await node.locator('[data-count]').getAttribute('data-count'));
}

async function openRow(predicate) {
  await tableRows();
  const rows = page.getByTestId('aa-row');
  const n = await rows.count();
  for (let i = 0; i < n; i++) {
    const r = rows.nth(i);
    if (await predicate(r)) {
      await r.click();
      await page.getByTestId('aa-detail').waitFor();
      return r;
    }
  }
  throw new Error('no row matches');
}

before(async () => {
  assert.ok(BASE, 'BASE_URL is not set: run through e2e_test.go');
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run', '--disable-dev-shm-usage'],
  });
  const context = await browser.newContext({ viewport: { width: 1500, height: 1100 }, timezoneId: 'UTC' });
  context.setDefaultTimeout(15000);
  page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') {
      consoleErrors.push({ test: current, text: m.text() });
    }
  });
  page.on('pageerror', (e) => consoleErrors.push({ test: current, text: `uncaught: ${e.message}` }));
  page.on('request', (r) => {
    if (r.url().includes(API)) {
      requests.push(new URL(r.url()));
    }
  });
});

after(async () => {
  await browser?.close();
});

describe('audit page', () => {
  test('groupings and data sources show the fixture exact counts', async () => {
    current = 'counts';
    const want = await apiGet('/groups', { from: FROM, to: TO });
    assert.equal(want.total, 95);
    await page.goto(auditURL());
    assert.equal(await groupCount('namespace', 'shop'), 72);
    assert.equal(await groupCount('workload', 'woocommerce'), 50);
    assert.equal(await groupCount('pod', POD), 31);
    assert.equal(await groupCount('pod', 'woocommerce-6877958-k9z7p'), 19);
    assert.equal(await groupCount('workload', 'mysql'), 22);
    assert.equal(await groupCount('pod', 'mysql-0'), 22);
    assert.equal(await groupCount('namespace', 'kube-system'), 23);
    assert.equal(await groupCount('pod', 'coredns-5d78c9869d-abcde'), 23);
    for (const [s, n] of [['cmd', 60], ['net', 34], ['kube_exec', 1]]) {
      await page.waitForFunction(([s, n]) => document.querySelector(`[data-testid="aa-source-${s}"]`)?.getAttribute('data-count') === String(n), [s, n]);
    }
    await expectRows(95);
    await page.getByTestId('aa-frequency').locator('canvas').first().waitFor();
    assert.equal(await page.getByTestId('aa-frequency').getAttribute('data-total'), '95');
    await shot('audit-counts');

    // The container grouping: host > container.
    await page.getByTestId('aa-groupings').getByRole('radio', { name: 'Containers' }).click();
    await page.waitForURL(/by=container/);
    const hosts = await apiGet('/groups', { from: FROM, to: TO, by: 'host,container_id' });
    for (const h of hosts.groups) {
      assert.equal(await groupCount('host', h.value), h.count);
    }
    await shot('audit-by-container');
  });

  test('clicking a pod scopes the table and the graph; back returns', async () => {
    current = 'scope';
    await page.goto(auditURL());
    await page.getByTestId(`aa-group-pod-${POD}`).click();
    await page.waitForURL((u) => u.searchParams.get('filter') === `namespace="shop" workload="woocommerce" pod="${POD}"`);
    await expectRows(31);
    await page.waitForFunction(() => document.querySelector('[data-testid="aa-frequency"]')?.getAttribute('data-total') === '31');
    const pods = await page.getByTestId('aa-row').evaluateAll((rows) => rows.map((r) => r.textContent));
    assert.ok(pods.every((t) => t.includes('woocommerce-6877958')), 'a row of another pod');
    assert.equal(await page.getByTestId('aa-filter-input').inputValue(), `namespace="shop" workload="woocommerce" pod="${POD}"`);
    await shot('audit-scoped-to-pod');

    await page.goBack();
    await page.waitForURL((u) => !u.searchParams.has('filter'));
    await expectRows(95);
    assert.equal(await page.getByTestId('aa-filter-input').inputValue(), '');
    await page.goForward();
    await page.waitForURL((u) => u.searchParams.has('filter'));
    await expectRows(31);
  });

  test('dragging across the graph zooms the time range', async () => {
    current = 'zoom';
    await page.goto(auditURL());
    await expectRows(95);
    const over = page.getByTestId('aa-frequency').locator('.u-over');
    await over.waitFor();
    const box = await over.boundingBox();
    const y = box.y + box.height / 2;
    // 10:02 to 10:04 of the 10:00-10:20 range.
    await page.mouse.move(box.x + box.width * 0.1, y);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.15, y, { steps: 5 });
    await page.mouse.move(box.x + box.width * 0.2, y, { steps: 5 });
    await page.mouse.up();
    await page.waitForURL((u) => u.searchParams.get('from') !== String(FROM));
    const from = Number(search().get('from'));
    const to = Number(search().get('to'));
    assert.ok(from > FROM + 60_000 && from < FROM + 180_000, `from ${from}`);
    assert.ok(to > FROM + 180_000 && to < FROM + 300_000, `to ${to}`);
    const want = await apiGet('/frequency', { from, to });
    assert.ok(want.total > 0 && want.total < 95);
    await expectRows(want.total);
    await page.waitForFunction((n) => document.querySelector('[data-testid="aa-frequency"]')?.getAttribute('data-total') === String(n), want.total);
    await shot('audit-zoomed');

    // Back one window and forward again: the same span, shifted.
    await page.getByRole('button', { name: /back one window/i }).click();
    await page.waitForURL((u) => Number(u.searchParams.get('to')) === from);
    assert.equal(Number(search().get('from')), from - (to - from));
    await page.getByRole('button', { name: /forward one window/i }).click();
    await page.waitForURL((u) => Number(u.searchParams.get('from')) === from);
  });

  test('- excludes an attribute and + includes one, writing canonical terms', async () => {
    current = 'plusminus';
    await page.goto(auditURL());
    const comm = await apiGet('/values/comm', { from: FROM, to: TO, limit: 100 });
    const curl = comm.values.find((v) => v.value === 'curl');
    assert.ok(curl, 'curl is in the fixture');

    await openRow(async (r) => (await r.textContent()).includes('curl --version'));
    await page.waitForTimeout(400); // the drawer slides in
    await shot('audit-detail');
    await page.getByTestId('aa-exclude-comm').click();
    await page.waitForURL((u) => u.searchParams.get('filter') === 'comm!="curl"');
    assert.equal(await page.getByTestId('aa-filter-input').inputValue(), 'comm!="curl"');
    await expectRows(95 - curl.count);
    // The detail view stays open on its record: - again is disabled, + replaces the term.
    const ns = await page.getByTestId('aa-detail').locator('tr:has(th:text-is("namespace")) td').first().textContent();
    await page.getByTestId('aa-include-namespace').click();
    await page.waitForURL((u) => u.searchParams.get('filter') === `comm!="curl" namespace="${ns}"`);
    const inNs = await apiGet('/events', { from: FROM, to: TO, filter: `comm!="curl" namespace="${ns}"`, limit: 1000 });
    await expectRows(inNs.records.length);
    // + on the excluded value replaces its - term.
    await page.getByTestId('aa-include-comm').click();
    await page.waitForURL((u) => u.searchParams.get('filter') === `namespace="${ns}" comm="curl"`);
    const both = await apiGet('/events', { from: FROM, to: TO, filter: `namespace="${ns}" comm="curl"`, limit: 1000 });
    await expectRows(both.records.length);
    const texts = await page.getByTestId('aa-row').evaluateAll((rows) => rows.map((r) => r.textContent));
    assert.ok(texts.every((t) => t.includes('curl')), 'a row without curl');
    await shot('audit-plus-minus');
  });

  test('a bad filter shows the positioned error and changes nothing', async () => {
    current = 'badfilter';
    await page.goto(auditURL());
    await expectRows(95);
    const before = requests.length;
    const input = page.getByTestId('aa-filter-input');
    await input.fill('comm=="x"');
    await input.press('Escape');
    await input.press('Enter');
    const err = page.getByTestId('aa-filter-error');
    await err.waitFor();
    const text = await err.textContent();
    assert.match(text, /column 5/);
    assert.match(text, /unknown operator "=="/);
    // The caret sits under column 5.
    assert.equal((await err.locator('pre').textContent()).split('\n')[1], '    ^');
    assert.equal(search().has('filter'), false, 'the URL took the bad filter');
    const sent = requests.slice(before).filter((u) => u.searchParams.get('filter') === 'comm=="x"');
    assert.ok(sent.every((u) => u.pathname.endsWith('/events') && u.searchParams.get('limit') === '1'), `the view queried with the bad filter: ${sent.map(String)}`);
    await expectRows(95);
    await shot('audit-bad-filter');

    // The attribute suggestion.
    await input.fill('namespce="shop"');
    await input.press('Enter');
    await page.waitForFunction(() => /did you mean "namespace"/.test(document.querySelector('[data-testid="aa-filter-error"]')?.textContent ?? ''));
    consoleErrors.splice(0, consoleErrors.length, ...consoleErrors.filter((e) => !(e.test === 'badfilter' && /status of 400/.test(e.text))));
  });

  test('autocompletes attribute names and their values', async () => {
    current = 'autocomplete';
    await page.goto(auditURL());
    await tableRows();
    const input = page.getByTestId('aa-filter-input');
    await input.click();
    await input.pressSequentially('com');
    const list = page.getByTestId('aa-filter-suggestions');
    await list.getByRole('option', { name: /^comm\b/ }).first().waitFor();
    await input.press('Enter'); // takes comm: comm=""
    assert.equal(await input.inputValue(), 'comm=""');
    // Values of comm in range, most frequent first.
    const want = await apiGet('/values/comm', { from: FROM, to: TO, limit: 12 });
    await list.getByRole('option').first().waitFor();
    const first = await list.getByRole('option').first().textContent();
    assert.ok(first.startsWith(want.values[0].value), `first suggestion ${first}`);
    await shot('audit-autocomplete');
    await input.press('Enter');
    assert.equal(await input.inputValue(), `comm="${want.values[0].value}" `);
    await input.press('Escape');
    await input.press('Enter');
    await page.waitForURL((u) => u.searchParams.get('filter') === `comm="${want.values[0].value}"`);
    await expectRows(want.values[0].count);
  });

  test('a pasted link opens the same view, sources included', async () => {
    current = 'link';
    const filter = 'namespace="shop" comm!="mysqld"';
    await page.goto(auditURL(`&filter=${encodeURIComponent(filter)}&sources=cmd`));
    assert.equal(await page.getByTestId('aa-filter-input').inputValue(), filter);
    assert.equal(await page.getByTestId('aa-source-cmd').getAttribute('aria-pressed'), 'true');
    assert.equal(await page.getByTestId('aa-source-net').getAttribute('aria-pressed'), 'false');
    const want = await apiGet('/events', { from: FROM, to: TO, filter, sources: 'cmd', limit: 1000 });
    await expectRows(want.records.length);
    const sources = await page.getByTestId('aa-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-source')));
    assert.ok(sources.every((s) => s === 'cmd'));
    // Links of pkg/link carry sources as source="…" terms.
    await page.goto(auditURL(`&filter=${encodeURIComponent('source="kube_exec"')}`));
    await expectRows(1);
    assert.equal(await page.getByTestId('aa-source-kube_exec').getAttribute('aria-pressed'), 'true');
    assert.equal(await page.getByTestId('aa-source-cmd').getAttribute('aria-pressed'), 'false');
    await shot('audit-link');
  });

  test('the keyboard moves through the table and opens the detail view', async () => {
    current = 'keyboard';
    await page.goto(auditURL());
    await expectRows(95);
    const rows = page.getByTestId('aa-row');
    await rows.first().focus();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    const third = await rows.nth(2).getAttribute('data-id');
    await page.waitForURL((u) => u.searchParams.get('sel') === third);
    assert.equal(await page.getByTestId('aa-detail').getAttribute('data-id'), third);
    await page.keyboard.press('Escape');
    await page.waitForURL((u) => !u.searchParams.has('sel'));
    // End reaches the last row (the table keeps only the rows in view in the DOM).
    await rows.first().focus();
    await page.keyboard.press('End');
    await page.waitForFunction(() => document.activeElement?.getAttribute('data-row-index') === '94');
    await shot('audit-keyboard');
  });

  test('the Trace button of the kube exec row opens its trace', async () => {
    current = 'tracebutton';
    await page.goto(auditURL('&sources=kube_exec'));
    await expectRows(1);
    await page.getByTestId('aa-row').getByTestId('aa-trace-button').click();
    await page.waitForURL((u) => u.pathname === `${APP}/trace/${SESSION}`);
    await page.getByTestId('aa-trace-user').waitFor();
    assert.equal(await page.getByTestId('aa-trace-user').textContent(), 'johndoe');
    await shot('audit-trace-button');
  });
});

describe('trace page', () => {
  test("the fixture's session: johndoe, three commands, one connection", async () => {
    current = 'trace';
    await page.goto(`${BASE}${APP}/trace/${SESSION}?from=${FROM}&to=${TO}`);
    const header = page.getByTestId('aa-trace-header');
    await page.getByTestId('aa-trace-user').waitFor();
    assert.equal(await page.getByTestId('aa-trace-user').textContent(), 'johndoe');
    assert.equal(await page.getByTestId('aa-trace-status').getAttribute('data-status'), 'known');
    const fact = async (name) => header.locator(`[data-fact="${name}"] dd`).textContent();
    assert.equal(await fact('Groups'), 'system:authenticated,dev');
    assert.equal(await fact('Source addresses'), '203.0.113.7');
    assert.match(await fact('User agent'), /^kubectl\/v1\.33\.1/);
    assert.equal(await fact('Command'), 'bash');
    assert.match(await fact('Container'), /^php/);
    assert.equal(await fact('Start'), '2026-11-26 10:05:00.000');
    assert.equal(await fact('End'), '2026-11-26 10:05:16.000');
    const cmdlines = await page.getByTestId('aa-trace-process').evaluateAll((ps) => ps.map((p) => p.getAttribute('data-cmdline')));
    assert.deepEqual(cmdlines, ['bash', 'apt-get install -y apache2-utils', 'ab -n 10000 -c 50 http://10.0.1.5/']);
    const conns = await page.getByTestId('aa-trace-connection').evaluateAll((cs) => cs.map((c) => c.getAttribute('data-server')));
    assert.deepEqual(conns, ['10.0.1.5:80']);
    await shot('trace');
  });

  test('an unknown session says so', async () => {
    current = 'trace404';
    await page.goto(`${BASE}${APP}/trace/node-z:1:1?from=${FROM}&to=${TO}`);
    await page.getByText(/no records between/).waitFor();
    await shot('trace-unknown');
    consoleErrors.splice(0, consoleErrors.length, ...consoleErrors.filter((e) => !(e.test === 'trace404' && /status of 404/.test(e.text))));
  });
});

describe('policy events page', () => {
  test("the Activity Audit button opens the alert's container ±5 minutes", async () => {
    current = 'policy';
    const want = await apiGet('/policy-events', { from: FROM, to: AT1600 });
    const ev = want.events.find((e) => e.rule === 'Drop and execute new binary in container');
    assert.ok(ev?.activity);
    await page.goto(`${BASE}${APP}/policy-events?from=${FROM}&to=${AT1600}`);
    const row = page.locator(`[data-testid="aa-policy-row"][data-rule="${ev.rule}"]`);
    await row.waitFor();
    assert.equal(await page.getByTestId('aa-policy-row').count(), want.events.length);
    await shot('policy-events');
    await row.getByTestId('aa-policy-audit').click();
    await page.waitForURL((u) => u.pathname === `${APP}/audit`);
    const q = search();
    assert.equal(q.get('from'), String(ev.activity.from));
    assert.equal(q.get('to'), String(ev.activity.to));
    assert.equal(q.get('filter'), `namespace="shop" pod="${POD}" container_id="${CONTAINER}"`);
    assert.equal(Number(q.get('to')) - Number(q.get('from')), 600_000);
    const events = await apiGet('/events', { from: ev.activity.from, to: ev.activity.to, filter: ev.activity.filter, limit: 1000 });
    await expectRows(events.records.length);
    const texts = await page.getByTestId('aa-row').evaluateAll((rows) => rows.map((r) => r.textContent));
    assert.ok(texts.length > 0 && texts.every((t) => t.includes('woocommerce-6877958-x2')), 'a row of another pod');
    assert.equal(await groupCount('pod', POD), events.records.length);
    await shot('policy-event-to-audit');
  });
});

describe('config page', () => {
  test('shows the settings and tests the connection', async () => {
    current = 'config';
    await page.goto(`${BASE}/plugins/activityaudit-app`);
    await page.getByTestId('aa-config').waitFor();
    await page.getByTestId('aa-config-test').click();
    await page.getByText('Connected').waitFor();
    await shot('config');
  });
});

describe('the whole run', () => {
  test('the light theme renders', async () => {
    current = 'light';
    await page.goto(`${BASE}${APP}/audit?from=${FROM}&to=${TO}&theme=light`);
    await expectRows(95);
    await shot('audit-light');
  });

  test('no console errors', () => {
    assert.deepEqual(consoleErrors, []);
  });
});
