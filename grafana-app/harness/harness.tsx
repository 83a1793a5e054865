// The browser harness: plays Grafana's part around the real, built
// dist/module.js, as Grafana would load it, so the app can be used and
// tested where no Grafana runs. It
//   - provides the libraries Grafana shares with plugins (React,
//     @grafana/data|ui|runtime, react-router, rxjs, emotion) to the AMD
//     module through window.define, as Grafana's SystemJS does;
//   - sets Grafana's runtime services: backendSrv over fetch, config
//     (theme, user), locationService on the browser's history;
//   - mounts the app's root page at /a/activityaudit-app/* and its config
//     page at /plugins/activityaudit-app, in ThemeContext, a
//     LocationServiceProvider and a router on locationService's history.
// ?theme=light switches the theme.
import * as EmotionCss from '@emotion/css';
import * as React from 'react';
import * as ReactDOM from 'react-dom';
import { createRoot } from 'react-dom/client';
import * as ReactRouter from 'react-router';
import { Navigate, Route, Router, Routes, useLocation } from 'react-router';
import * as Rxjs from 'rxjs';
import * as RxjsOperators from 'rxjs/operators';
import * as GrafanaData from '@grafana/data';
import { AppPlugin, AppPluginMeta, createTheme, GrafanaTheme2, PluginType } from '@grafana/data';
import * as GrafanaRuntime from '@grafana/runtime';
import { config, locationService, LocationServiceProvider, setBackendSrv } from '@grafana/runtime';
import * as GrafanaUI from '@grafana/ui';
import { GlobalStyles, ThemeContext } from '@grafana/ui';

// Grafana's own stylesheet carries uPlot's: the graphs need it.
import uplotCss from 'uplot/dist/uPlot.min.css';

import { fetchBackendSrv } from './backendSrv';

const PLUGIN_ID = 'activityaudit-app';
const MODULE_URL = `/public/plugins/${PLUGIN_ID}/module.js`;

// What Grafana shares with plugins (its SystemJS import map).
const shared: Record<string, unknown> = {
  react: React,
  'react-dom': ReactDOM,
  'react-router': ReactRouter,
  rxjs: Rxjs,
  'rxjs/operators': RxjsOperators,
  '@emotion/css': EmotionCss,
  '@grafana/data': GrafanaData,
  '@grafana/ui': GrafanaUI,
  '@grafana/runtime': GrafanaRuntime,
};

type Define = ((deps: string[] | (() => unknown), factory?: (...args: unknown[]) => unknown) => void) & { amd: object };

/** Loads an AMD module (webpack's library type "amd") with the shared libraries. */
function loadAmd(url: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const w = window as unknown as { define?: Define };
    const define = ((deps, factory) => {
      if (typeof deps === 'function') {
        factory = deps;
        deps = [];
      }
      const exports: Record<string, unknown> = {};
      const args = (deps as string[]).map((d) => {
        if (d === 'exports') {
          return exports;
        }
        if (!(d in shared)) {
          throw new Error(`module.js imports ${d}, which Grafana does not share with plugins`);
        }
        return shared[d];
      });
      const ret = factory!(...args);
      resolve((ret as Record<string, unknown>) ?? exports);
    }) as Define;
    define.amd = {};
    w.define = define;
    const s = document.createElement('script');
    s.src = url;
    s.onerror = () => reject(new Error(`cannot load ${url}: build the app first (npm run build)`));
    document.head.appendChild(s);
  });
}

const theme: GrafanaTheme2 = createTheme({
  colors: { mode: new URLSearchParams(window.location.search).get('theme') === 'light' ? 'light' : 'dark' },
});

function setUpRuntime() {
  const style = document.createElement('style');
  style.textContent = uplotCss;
  document.head.appendChild(style);
  setBackendSrv(fetchBackendSrv());
  const c = config as unknown as Record<string, unknown>;
  c.theme2 = theme;
  c.theme = theme.v1;
  c.appSubUrl = '';
  c.appUrl = window.location.origin + '/';
  (config.bootData as unknown as Record<string, unknown>).user = {
    id: 1,
    login: 'dev',
    name: 'Developer',
    orgRole: 'Admin',
    isSignedIn: true,
    timezone: 'browser',
    theme: theme.colors.mode,
  };
}

const TITLES: Array<[RegExp, string]> = [
  [/\/audit/, 'Activity Audit'],
  [/\/trace\//, 'Trace'],
  [/\/policy-events/, 'Policy events'],
];

/** Grafana's page chrome: a title over the page (PluginPage renders its children). */
function PageChrome({ children }: React.PropsWithChildren) {
  const loc = useLocation();
  const title = TITLES.find(([re]) => re.test(loc.pathname))?.[1] ?? 'Activity Audit';
  return (
    <div style={{ padding: theme.spacing(2, 3) }}>
      <h1 style={{ fontSize: theme.typography.h2.fontSize, margin: theme.spacing(0, 0, 2) }}>{title}</h1>
      {children}
    </div>
  );
}

/** A react-router v6 router on locationService's history, as Grafana's own. */
function HistoryRouter({ children }: React.PropsWithChildren) {
  const history = locationService.getHistory();
  const [location, setLocation] = React.useState(history.location);
  React.useLayoutEffect(() => history.listen((l: typeof history.location) => setLocation(l)), [history]);
  return (
    <Router location={location} navigator={history as unknown as ReactRouter.Navigator}>
      {children}
    </Router>
  );
}

function Nav() {
  const loc = useLocation();
  const link = (path: string, label: string) => (
    <a
      href={path}
      onClick={(e) => {
        e.preventDefault();
        locationService.push(path);
      }}
      style={{
        color: loc.pathname.startsWith(path.split('?')[0]) ? theme.colors.text.maxContrast : theme.colors.text.secondary,
        textDecoration: 'none',
        marginRight: theme.spacing(2),
      }}
    >
      {label}
    </a>
  );
  return (
    <nav
      style={{
        display: 'flex',
        alignItems: 'center',
        padding: theme.spacing(1, 3),
        borderBottom: `1px solid ${theme.colors.border.weak}`,
        background: theme.colors.background.primary,
      }}
    >
      <b style={{ marginRight: theme.spacing(3) }}>Grafana (harness)</b>
      {link(`/a/${PLUGIN_ID}/audit`, 'Audit')}
      {link(`/a/${PLUGIN_ID}/policy-events`, 'Policy events')}
      {link(`/plugins/${PLUGIN_ID}`, 'Configuration')}
    </nav>
  );
}

function Shell({ plugin }: { plugin: AppPlugin }) {
  const Root = plugin.root!;
  const ConfigPage = plugin.configPages?.[0]?.body;
  const loc = useLocation();
  return (
    <div style={{ minHeight: '100vh', background: theme.colors.background.canvas, color: theme.colors.text.primary }}>
      <Nav />
      <Routes>
        <Route
          path={`/a/${PLUGIN_ID}/*`}
          element={
            <PageChrome>
              <Root meta={plugin.meta} basename={`/a/${PLUGIN_ID}`} query={Object.fromEntries(new URLSearchParams(loc.search))} path={loc.pathname} onNavChanged={() => undefined} />
            </PageChrome>
          }
        />
        <Route
          path={`/plugins/${PLUGIN_ID}`}
          element={
            ConfigPage ? (
              <div style={{ padding: theme.spacing(2, 3) }}>
                <h1 style={{ fontSize: theme.typography.h2.fontSize }}>Activity Audit: configuration</h1>
                <ConfigPage plugin={plugin} query={{}} />
              </div>
            ) : (
              <div>no config page</div>
            )
          }
        />
        <Route path="*" element={<Navigate to={`/a/${PLUGIN_ID}/audit`} replace />} />
      </Routes>
    </div>
  );
}

async function main() {
  setUpRuntime();
  const root = createRoot(document.getElementById('root')!);
  try {
    const [mod, settings] = await Promise.all([
      loadAmd(MODULE_URL),
      fetch(`/api/plugins/${PLUGIN_ID}/settings`).then((r): Promise<{ jsonData?: object; secureJsonFields?: Record<string, boolean> }> => (r.ok ? r.json() : Promise.resolve({}))),
    ]);
    const plugin = mod.plugin as AppPlugin;
    if (!plugin || !plugin.root) {
      throw new Error('module.js exports no app plugin with a root page');
    }
    const meta: AppPluginMeta = {
      id: PLUGIN_ID,
      name: 'Activity Audit',
      type: PluginType.app,
      module: MODULE_URL,
      baseUrl: `/public/plugins/${PLUGIN_ID}`,
      enabled: true,
      jsonData: settings.jsonData ?? {},
      secureJsonFields: settings.secureJsonFields ?? {},
      info: {
        author: { name: 'Activity Audit' },
        description: '',
        links: [],
        logos: { small: '', large: '' },
        screenshots: [],
        updated: '',
        version: '',
      },
    };
    plugin.init(meta);
    plugin.meta = meta;
    root.render(
      <ThemeContext.Provider value={theme}>
        <GlobalStyles />
        <LocationServiceProvider service={locationService}>
          <HistoryRouter>
            <Shell plugin={plugin} />
          </HistoryRouter>
        </LocationServiceProvider>
      </ThemeContext.Provider>
    );
  } catch (e) {
    root.render(<pre style={{ color: 'red' }}>{String(e instanceof Error ? e.stack : e)}</pre>);
    throw e;
  }
}

main();
