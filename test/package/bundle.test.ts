import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRelay, type TestRelay } from '../helpers/https-relay.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const entryPath = path.join(root, 'dist', 'plugin', 'index.js');
const standIns = path.join(root, 'scripts', 'stand-ins');

/**
 * Size budget of the unminified entry in bytes. It was 1.6 MB before the zod namespace import
 * and the stand-ins, and about 590 KB after them. got and zod, which the plugin needs, are most
 * of what remains. The margin leaves room for new plugin code, but zod's locales (about 360 KB)
 * or ajv (about 230 KB) coming back would exceed it.
 */
const ENTRY_BUDGET_BYTES = 800 * 1024;

interface BundleModule {
  activate(host: unknown): Promise<{
    hooks: Record<string, (outcome: unknown) => Promise<Record<string, unknown>>>;
    deactivate(): Promise<void>;
  }>;
  SettingsSchema: { toJSONSchema(): unknown };
}

let bundle: string;
let module: BundleModule;

beforeAll(async () => {
  bundle = await fs.readFile(entryPath, 'utf8');
  module = (await import(pathToFileURL(entryPath).href)) as BundleModule;
});

describe('bundled entry', () => {
  it('stays within its size budget', () => {
    expect(Buffer.byteLength(bundle)).toBeLessThan(ENTRY_BUDGET_BYTES);
  });

  it('leaves out unused zod code', () => {
    const locales = [...bundle.matchAll(/^\/\/ node_modules\/zod\/v4\/locales\/([\w-]+)\.js$/gm)];

    // locales/index.js is the empty re-export module, not a locale.
    expect(locales.map((match) => match[1]).filter((name) => name !== 'index')).toEqual(['en']);
    // Functions of the JSON Schema converters; an empty module marker may remain.
    expect(bundle).not.toMatch(/function initializeContext\(/);
    expect(bundle).not.toMatch(/function processSchema\(/);
    expect(bundle).not.toMatch(/function detectVersion\(/);
  });

  it('leaves out modules of unused got and conf options', () => {
    for (const name of [
      'ajv',
      'ajv-formats',
      'semver',
      'http2-wrapper',
      'cacheable-request',
      'cacheable-lookup',
      'keyv',
      'form-data-encoder',
    ]) {
      expect(bundle, name).not.toContain(`// node_modules/${name}/`);
    }
  });

  it('activates without loading network modules', async () => {
    // got, the sender and Node's network modules load on the first attempt, not at activation.
    const script = `
      const m = await import(${JSON.stringify(pathToFileURL(entryPath).href)});
      const fs = await import('node:fs');
      const dir = fs.mkdtempSync(${JSON.stringify(path.join(os.tmpdir(), 'bundle-activate-'))});
      const plugin = await m.activate({ dataDir: dir, app: { version: '1.0.0', platform: 'linux' } });
      await plugin.deactivate();
      fs.rmSync(dir, { recursive: true, force: true });
      const loaded = process.moduleLoadList.filter((name) => /^NativeModule (https?|tls|dns|zlib)$/.test(name));
      console.log(JSON.stringify(loaded));
    `;
    const { execFileSync } = await import('node:child_process');
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
    });

    expect(JSON.parse(output.trim())).toEqual([]);
  });

  it('keeps the build folder path out', () => {
    expect(bundle).not.toContain(root);
  });

  it('throws a clear error for JSON Schema conversion', () => {
    expect(() => module.SettingsSchema.toJSONSchema()).toThrow(
      /zod JSON Schema conversion .* is not available in this bundle/,
    );
  });
});

describe('stand-ins', () => {
  it('throw naming the unused option', async () => {
    const cases: [string, (loaded: Record<string, any>) => unknown, RegExp][] = [
      ['cacheable-request.js', (m) => new m.default(), /`cache` option/],
      ['http2-wrapper.js', (m) => m.default.auto(), /`http2` option/],
      ['http2-wrapper.js', (m) => m.default.globalAgent, /`http2` option/],
      ['cacheable-lookup.js', (m) => new m.default(), /`dnsCache` option/],
      ['form-data-encoder.js', (m) => new m.FormDataEncoder(), /FormData bodies/],
      ['ajv.js', (m) => new m.Ajv2020(), /`schema` option/],
      ['ajv.js', (m) => m.default.default(), /`schema` option/],
      ['semver.js', (m) => m.default.satisfies('1.0.0', '^1'), /`migrations` option/],
    ];

    for (const [file, use, message] of cases) {
      const loaded = (await import(pathToFileURL(path.join(standIns, file)).href)) as Record<
        string,
        any
      >;

      expect(() => use(loaded), file).toThrow(message);
    }
  });

  it('report FormData as absent', async () => {
    const { isFormData } = (await import(
      pathToFileURL(path.join(standIns, 'form-data-encoder.js')).href
    )) as { isFormData(value: unknown): boolean };

    expect(isFormData(new FormData())).toBe(false);
  });
});

describe('bundled entry at run time', () => {
  let relay: TestRelay;
  let dataDir: string;
  const logged: unknown[][] = [];

  beforeAll(async () => {
    relay = await startTestRelay({
      handler: (_request, response) => {
        response.writeHead(410, { 'content-type': 'text/plain' });
        response.end('gone');
      },
    });
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'bundle-run-'));
  });

  afterAll(async () => {
    await relay.close();
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  function host(config: unknown) {
    const record = (...args: unknown[]) => logged.push(args);
    return {
      dataDir,
      app: { version: '1.6.0', platform: 'linux' },
      config,
      relays: { get: () => undefined },
      log: { debug: () => {}, info: record, warn: record, error: record },
    };
  }

  it('stores a relay paused by 410 Gone', async () => {
    const plugin = await module.activate(
      host({
        relays: { gone: { callbackUrl: relay.url } },
        network: { allowPrivateAddresses: true, extraCaCertificates: [relay.ca] },
      }),
    );

    try {
      const result = await plugin.hooks['connect:cancelled']!({
        relay: 'gone',
        key: 'sk-1234567890',
      });
      expect(result.queued).toBe(true);
      await relay.waitForRequests(1);

      const deadline = Date.now() + 5000;
      let saved = '';

      while (Date.now() < deadline && !saved.includes('"gone"')) {
        saved = await fs.readFile(path.join(dataDir, 'settings.json'), 'utf8').catch(() => '');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }

      // The pause is kept apart from the settings, so the host's config still applies.
      expect(JSON.parse(saved)).toMatchObject({ pausedRelays: ['gone'] });
    } finally {
      await plugin.deactivate();
    }
  });

  it('rejects an outcome without a key', async () => {
    const plugin = await module.activate(host({}));

    try {
      const result = await plugin.hooks['connect:confirmed']!({ relay: 'gone' });

      expect(result).toMatchObject({ queued: false, reason: 'invalid' });
      expect(String(result.message)).toMatch(/^key/);
    } finally {
      await plugin.deactivate();
    }
  });

  it('ignores an unknown host setting naming it', async () => {
    await fs.rm(path.join(dataDir, 'settings.json'), { force: true });
    logged.length = 0;
    const plugin = await module.activate(host({ retry: { fast: true } }));
    await plugin.deactivate();

    expect(JSON.stringify(logged)).toContain('invalid host setting ignored');
    expect(JSON.stringify(logged)).toContain('retry');
  });
});
