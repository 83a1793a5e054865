// Builds the app plugin as Grafana loads it (dist/module.js, an AMD module whose
// Grafana-provided libraries are externals, plus plugin.json, img/ and README),
// and the browser harness (harness/build/) that plays Grafana's part around
// the very same dist/module.js in tests and the devserver.
//
//   npx webpack -c webpack.config.js --env production
'use strict';

const path = require('path');
const CopyPlugin = require('copy-webpack-plugin');
const pkg = require('./package.json');

const swc = {
  test: /\.[jt]sx?$/,
  exclude: /node_modules/,
  use: {
    loader: 'swc-loader',
    options: {
      jsc: {
        baseUrl: path.resolve(__dirname),
        target: 'es2020',
        loose: false,
        parser: { syntax: 'typescript', tsx: true, decorators: false, dynamicImport: true },
        transform: { react: { runtime: 'automatic' } },
      },
    },
  },
};

// What Grafana shares with plugins at run time (its SystemJS import map):
// they must not be bundled, or a plugin gets a second React, a second
// @grafana/runtime without Grafana's services, and so on.
const externals = [
  'react',
  'react-dom',
  'react-router',
  'rxjs',
  '@emotion/css',
  '@emotion/react',
  'lodash',
  'moment',
  'i18next',
  /^@grafana\/ui/i,
  /^@grafana\/runtime/i,
  /^@grafana\/data/i,
  ({ request }, callback) => (/^rxjs\//.test(request ?? '') ? callback(undefined, request) : callback()),
];

const resolve = { extensions: ['.ts', '.tsx', '.js', '.jsx', '.mjs', '.json'] };

module.exports = (env = {}) => {
  const mode = env.production ? 'production' : 'development';
  const today = new Date().toISOString().slice(0, 10);

  const plugin = {
    name: 'plugin',
    mode,
    target: 'web',
    devtool: env.production ? 'source-map' : 'eval-source-map',
    context: path.join(__dirname, 'src'),
    entry: { module: './module.tsx' },
    externals,
    output: {
      path: path.join(__dirname, 'dist'),
      filename: '[name].js',
      library: { type: 'amd' },
      publicPath: '/public/plugins/activityaudit-app/',
      uniqueName: 'activityaudit-app',
      // dist/ also holds the backend binaries built by mage: never clean it.
      clean: false,
    },
    resolve,
    module: { rules: [swc] },
    performance: { hints: false },
    plugins: [
      new CopyPlugin({
        patterns: [
          {
            from: 'plugin.json',
            to: '.',
            transform: (content) =>
              content.toString().replace(/%VERSION%/g, pkg.version).replace(/%TODAY%/g, today),
          },
          { from: 'img', to: 'img' },
          { from: '../README.md', to: '.' },
          { from: '../../LICENSE', to: '.', noErrorOnMissing: true },
        ],
      }),
    ],
  };

  const harness = {
    name: 'harness',
    mode,
    target: 'web',
    devtool: false,
    context: path.join(__dirname, 'harness'),
    entry: { harness: './harness.tsx' },
    output: { path: path.join(__dirname, 'harness', 'build'), filename: '[name].js', publicPath: '/harness/', clean: true },
    // Only tests and the devserver load it: no time spent minifying.
    optimization: { minimize: false },
    resolve,
    module: {
      rules: [
        swc,
        // d3 and friends ship .mjs that import without extensions.
        { test: /\.m?js$/, resolve: { fullySpecified: false } },
        { test: /\.css$/, type: 'asset/source' },
      ],
    },
    performance: { hints: false },
    plugins: [new CopyPlugin({ patterns: [{ from: 'index.html', to: '.' }] })],
  };

  return env.only === 'plugin' ? plugin : env.only === 'harness' ? harness : [plugin, harness];
};
