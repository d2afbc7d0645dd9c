// Bundles the plugin entry and the development host with esbuild. The plugin bundle contains every
// runtime dependency except `electron`, which only exists inside Lime's Electron process.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

// Bundled CommonJS dependencies call require() for Node built-ins; an ES module has no
// require, so the bundle creates one.
const requireShim =
  "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);";

// `electron` exists only inside Lime's Electron process. Bundled modules that import it
// (electron-store) get a stand-in that loads the real module there and an empty object in
// plain Node, so one bundle runs in both hosts.
const electronOnlyInElectron = {
  name: 'electron-only-in-electron',
  setup(context) {
    context.onResolve({ filter: /^electron$/ }, () => ({
      path: 'electron',
      namespace: 'electron-stand-in',
    }));
    context.onLoad({ filter: /.*/, namespace: 'electron-stand-in' }, () => ({
      contents:
        'const electron = process.versions.electron ? require("electron") : {}; export default electron;',
      loader: 'js',
    }));
  },
};

const shared = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  plugins: [electronOnlyInElectron],
  banner: { js: requireShim },
  sourcemap: false,
  logLevel: 'warning',
  legalComments: 'inline',
};

const plugin = await build({
  ...shared,
  entryPoints: { index: 'src/index.ts' },
  outdir: 'dist/plugin',
  metafile: true,
});

if (process.argv.includes('--analyze')) {
  const { analyzeMetafile } = await import('esbuild');
  console.log(await analyzeMetafile(plugin.metafile));
}

// The development host loads the plugin from its built entry, as Lime does, instead of
// bundling a second copy of it.
const pluginEntryAsExternal = {
  name: 'plugin-entry-as-external',
  setup(context) {
    context.onResolve({ filter: /^\.\.\/index\.js$/ }, () => ({
      path: '../plugin/index.js',
      external: true,
    }));
  },
};

await build({
  ...shared,
  entryPoints: { main: 'src/dev-host/main.ts' },
  outdir: 'dist/dev-host',
  plugins: [electronOnlyInElectron, pluginEntryAsExternal],
});
