// Bundles the plugin entry and the development host with esbuild. The plugin bundle contains every
// runtime dependency except `electron`, which only exists inside Lime's Electron process.
import { build } from 'esbuild';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
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

// Modules that got and conf import for options the plugin never sets. Each is replaced by a small
// file in scripts/stand-ins/ that throws a clear error if that option is ever used. The bundle
// tests in test/package/ check that delivery and settings still work. Keys are
// `<importing package>:<import specifier>`.
const standIns = new Map([
  ['got:cacheable-request', 'cacheable-request.js'],
  ['got:http2-wrapper', 'http2-wrapper.js'],
  ['got:cacheable-lookup', 'cacheable-lookup.js'],
  ['got:form-data-encoder', 'form-data-encoder.js'],
  ['conf:ajv/dist/2020.js', 'ajv.js'],
  ['conf:ajv-formats', 'ajv.js'],
  ['conf:semver', 'semver.js'],
]);

const unusedDependencyStandIns = {
  name: 'unused-dependency-stand-ins',
  setup(context) {
    context.onResolve({ filter: /^[a-z]/ }, (args) => {
      const importer = /[\\/]node_modules[\\/](got|conf)[\\/]/.exec(args.importer)?.[1];
      const file = importer === undefined ? undefined : standIns.get(`${importer}:${args.path}`);

      if (file === undefined) {
        return undefined;
      }

      return { path: path.join(root, 'scripts', 'stand-ins', file) };
    });
  },
};

// zod's classic schemas import its JSON Schema converters so that every schema has a
// `.toJSONSchema()` method. Only scripts/generate-manifest.ts converts, and it runs under tsx
// from node_modules, so bundles get functions that throw instead. The stand-in exports the same
// names as the real module, read from it at build time, so a zod upgrade cannot break the import.
const zodJsonSchemaModules =
  /[\\/]zod[\\/]v4[\\/]core[\\/](json-schema-processors|to-json-schema)\.js$/;

const zodWithoutJsonSchema = {
  name: 'zod-without-json-schema',
  setup(context) {
    context.onResolve({ filter: /json-schema/ }, (args) => {
      const resolved = path.join(path.dirname(args.importer), args.path);

      if (!/[\\/]zod[\\/]v4[\\/]classic[\\/]/.test(args.importer)) {
        return undefined;
      }

      // A path relative to the root, because esbuild prints it in the bundle's comments.
      return zodJsonSchemaModules.test(resolved)
        ? { path: path.relative(root, resolved), namespace: 'zod-json-schema-stand-in' }
        : undefined;
    });

    context.onLoad({ filter: /.*/, namespace: 'zod-json-schema-stand-in' }, async (args) => {
      const source = await readFile(path.join(root, args.path), 'utf8');
      const names = [...source.matchAll(/^export (?:const|function) (\w+)/gm)].map((m) => m[1]);
      const message = `zod JSON Schema conversion (${path.basename(args.path)}) is not available in this bundle: scripts/build.mjs replaces it with a stand-in`;
      const lines = [
        `function unavailable() { throw new Error(${JSON.stringify(message)}); }`,
        // The create* helpers run when `~standard` is read, so they return a throwing method
        // instead of throwing themselves.
        ...names.map((name) =>
          name.startsWith('create')
            ? `export function ${name}() { return unavailable; }`
            : `export const ${name} = unavailable;`,
        ),
      ];
      return { contents: lines.join('\n'), loader: 'js' };
    });
  },
};

// `import { z } from 'zod'` binds zod's namespace object as a value, so esbuild keeps all of zod,
// every locale included (about 1 MB). `import * as z from 'zod'` lets it keep only what the code
// reads. Source files get the second form in bundles whichever form they were written with.
const zodNamespaceImport = {
  name: 'zod-namespace-import',
  setup(context) {
    context.onLoad({ filter: /[\\/]src[\\/].*\.tsx?$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      const rewritten = source.replace(
        /^import \{ z \} from 'zod';$/m,
        "import * as z from 'zod';",
      );

      if (rewritten === source) {
        return undefined;
      }

      return { contents: rewritten, loader: args.path.endsWith('x') ? 'tsx' : 'ts' };
    });
  },
};

// src/version.ts imports package.json for its version; only that field goes into a bundle.
const packageVersionOnly = {
  name: 'package-version-only',
  setup(context) {
    const packageJsonPath = path.join(root, 'package.json');

    context.onLoad({ filter: /[\\/]package\.json$/ }, async (args) => {
      if (args.path !== packageJsonPath) {
        return undefined;
      }

      const { version } = JSON.parse(await readFile(packageJsonPath, 'utf8'));
      return { contents: JSON.stringify({ version }), loader: 'json' };
    });
  },
};

// Node built-ins are loaded through require() from inside the module that needs them, instead
// of as top-level imports that the bundle hoists and Node loads before any code runs. got and
// the sender are loaded only on the first attempt, so activating with nothing to send does not
// pay for http, https, tls, net, dns and zlib.
const builtinModules = new Set(
  (await import('node:module')).builtinModules.flatMap((name) => [name, `node:${name}`]),
);
const builtinsLoadedOnUse = {
  name: 'builtins-loaded-on-use',
  setup(context) {
    context.onResolve({ filter: /^[a-z:_/]+$/ }, (args) => {
      if (!builtinModules.has(args.path)) {
        return undefined;
      }

      // The stand-in's own require() is the real built-in, left to Node.
      return args.namespace === 'builtin-on-use'
        ? { path: args.path, external: true }
        : { path: args.path, namespace: 'builtin-on-use' };
    });
    context.onLoad({ filter: /.*/, namespace: 'builtin-on-use' }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path)});`,
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
  plugins: [
    electronOnlyInElectron,
    unusedDependencyStandIns,
    zodNamespaceImport,
    zodWithoutJsonSchema,
    packageVersionOnly,
    builtinsLoadedOnUse,
  ],
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

// The entry is an ES module in a `.js` file; this marks its folder as such for Node, also
// where the plugin is unpacked without the project's package.json above it.
await writeFile(
  path.join(root, 'dist', 'plugin', 'package.json'),
  `${JSON.stringify({ type: 'module', private: true }, null, 2)}\n`,
);

if (process.argv.includes('--analyze')) {
  const { analyzeMetafile } = await import('esbuild');
  console.log(await analyzeMetafile(plugin.metafile));
}

// The receiver kit for relays, exported as `lime-connect-webhook/relay`.
await build({
  ...shared,
  entryPoints: { index: 'src/relay/index.ts' },
  outdir: 'dist/relay',
});

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
  plugins: [...shared.plugins, pluginEntryAsExternal],
});

// The debug panel: one page for both hosts (dist/panel/index.html, panel.js, panel.css), and
// the preload script of Lime's panel window. A sandboxed preload must be one CommonJS file
// that requires nothing but `electron`.
await build({
  absWorkingDir: root,
  bundle: true,
  platform: 'browser',
  // A classic script: Chromium refuses module scripts from file:// pages such as Lime's window.
  format: 'iife',
  target: 'chrome120',
  entryPoints: { panel: 'src/panel/ui/main.tsx' },
  outdir: 'dist/panel',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  minify: true,
  logLevel: 'warning',
  legalComments: 'inline',
});
await copyFile(
  path.join(root, 'src/panel/ui/index.html'),
  path.join(root, 'dist/panel/index.html'),
);
await build({
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  entryPoints: { preload: 'src/electron/panel-preload.ts' },
  outExtension: { '.js': '.cjs' },
  outdir: 'dist/panel',
  external: ['electron'],
  logLevel: 'warning',
});
