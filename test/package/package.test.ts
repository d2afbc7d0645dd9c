import { execFile } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { Webhook } from 'standardwebhooks';
import { extract as extractTar } from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseChecksums, sha256 } from '../../scripts/package/check-package.js';
import { readArchive } from '../../scripts/package/read-archive.js';
import { startTestRelay, type TestRelay } from '../helpers/https-relay.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const tsx = path.join(root, 'node_modules', '.bin', 'tsx');
const run = promisify(execFile);
const packageJson = JSON.parse(await fs.readFile(path.join(root, 'package.json'), 'utf8')) as {
  version: string;
};

// The plugin contract as Lime uses it, declared here rather than imported from the source.
interface ConnectOutcome {
  relay: string;
  key: string;
  name?: string;
  ref?: string;
  flowId?: string;
  occurredAt?: string | Date;
  error?: { code: string; message: string };
}

type HookResult =
  { queued: true; eventId: string } | { queued: false; reason: string; message: string };

interface ActivatedPlugin {
  hooks: Record<
    'connect:confirmed' | 'connect:cancelled' | 'connect:failed',
    (outcome: ConnectOutcome) => Promise<HookResult>
  >;
  deactivate(): Promise<void>;
}

const SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
const KEY = 'sk-pack0123456789abcdefABCDEF';
const TOP = 'connect-webhook';

let outDir: string;
let packOutput: string;
const archives = {
  zip: '',
  tgz: '',
};

beforeAll(async () => {
  outDir = await fs.mkdtemp(path.join(os.tmpdir(), 'pack-out-'));
  const { stdout } = await run(tsx, [path.join(root, 'scripts', 'pack.ts'), '--out-dir', outDir], {
    cwd: root,
  });
  packOutput = stdout;
  archives.zip = path.join(outDir, `connect-webhook-${packageJson.version}.zip`);
  archives.tgz = path.join(outDir, `connect-webhook-${packageJson.version}.tgz`);
}, 60_000);

afterAll(async () => {
  await fs.rm(outDir, { recursive: true, force: true });
});

/** Unpacks an archive into a new empty folder under the system temporary folder. */
async function unpack(kind: 'zip' | 'tgz'): Promise<string> {
  const folder = await fs.mkdtemp(path.join(os.tmpdir(), `unpacked-${kind}-`));

  if (kind === 'tgz') {
    await extractTar({ file: archives.tgz, cwd: folder, strict: true });
    return folder;
  }

  for (const entry of await readArchive(archives.zip, 'zip')) {
    const target = path.join(folder, entry.name);

    if (entry.contents !== undefined) {
      await fs.mkdir(path.dirname(target), { recursive: true });
      await fs.writeFile(target, entry.contents);
    }
  }

  return folder;
}

/** Lists the folders from `folder` up to the file system root that contain node_modules. */
function ancestorsWithNodeModules(folder: string): string[] {
  const found: string[] = [];
  let current = folder;

  for (;;) {
    if (existsSync(path.join(current, 'node_modules'))) {
      found.push(current);
    }

    const parent = path.dirname(current);

    if (parent === current) {
      return found;
    }

    current = parent;
  }
}

describe('npm run pack', () => {
  it('reports both archives and the entry size', () => {
    expect(packOutput).toMatch(/wrote .*connect-webhook-\d+\.\d+\.\d+.*\.zip \(\d+ bytes\)/);
    expect(packOutput).toMatch(/wrote .*\.tgz \(\d+ bytes\)/);
    expect(packOutput).toMatch(/entry \d+ bytes/);
  });

  for (const kind of ['zip', 'tgz'] as const) {
    describe(`${kind} archive`, () => {
      it('starts with its file signature', async () => {
        const header = (await fs.readFile(archives[kind])).subarray(0, 2);

        expect([...header]).toEqual(kind === 'zip' ? [0x50, 0x4b] : [0x1f, 0x8b]);
      });

      it('holds exactly the plugin files in one folder', async () => {
        const names = (await readArchive(archives[kind], kind === 'zip' ? 'zip' : 'gzip'))
          .filter((entry) => entry.contents !== undefined)
          .map((entry) => entry.name);
        const panel = names.filter((name) => name.startsWith(`${TOP}/dist/panel/`));

        expect(names[0]).toBe(`${TOP}/plugin.json`);
        expect(names.filter((name) => !panel.includes(name)).sort()).toEqual(
          [
            'plugin.json',
            'plugin.manifest.json',
            'dist/plugin/index.js',
            'dist/plugin/package.json',
            'README.md',
            'LICENSE',
            'SHA256SUMS',
          ]
            .map((name) => `${TOP}/${name}`)
            .sort(),
        );

        for (const name of names) {
          expect(name).not.toMatch(/node_modules|\.map$|\.test\.|\/test\//);
        }
      });

      it('carries plugin.json equal to the manifest', async () => {
        const folder = await unpack(kind);
        const pluginJson = await fs.readFile(path.join(folder, TOP, 'plugin.json'), 'utf8');
        const manifest = await fs.readFile(path.join(folder, TOP, 'plugin.manifest.json'), 'utf8');

        expect(pluginJson).toBe(manifest);
        expect(pluginJson).toBe(await fs.readFile(path.join(root, 'plugin.manifest.json'), 'utf8'));
        expect(JSON.parse(pluginJson)).toMatchObject({ version: packageJson.version });
        await fs.rm(folder, { recursive: true, force: true });
      });

      it('lists a correct SHA-256 for every file', async () => {
        const folder = await unpack(kind);
        const sums = parseChecksums(
          await fs.readFile(path.join(folder, TOP, 'SHA256SUMS'), 'utf8'),
        );

        expect([...sums.keys()].sort()).toEqual(
          expect.arrayContaining(['LICENSE', 'README.md', 'dist/plugin/index.js', 'plugin.json']),
        );

        for (const [name, digest] of sums) {
          expect(sha256(await fs.readFile(path.join(folder, TOP, name))), name).toBe(digest);
        }

        await fs.rm(folder, { recursive: true, force: true });
      });

      it('loads as an ES module without syntax detection', async () => {
        const folder = await unpack(kind);
        const entry = path.join(folder, TOP, 'dist', 'plugin', 'index.js');
        const { execFileSync } = await import('node:child_process');
        const output = execFileSync(
          process.execPath,
          [
            '--no-experimental-detect-module',
            '-e',
            `import(${JSON.stringify(pathToFileURL(entry).href)}).then((m) => console.log(typeof m.activate))`,
          ],
          { encoding: 'utf8' },
        );

        expect(output.trim()).toBe('function');
      });

      it('delivers a signed callback once unpacked', async () => {
        const folder = await unpack(kind);
        const pluginRoot = path.join(folder, TOP);
        const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), `unpacked-data-${kind}-`));
        let relay: TestRelay | undefined;
        let plugin: ActivatedPlugin | undefined;

        try {
          expect(ancestorsWithNodeModules(pluginRoot)).toEqual([]);
          relay = await startTestRelay({ path: '/callbacks' });
          const manifest = JSON.parse(
            await fs.readFile(path.join(pluginRoot, 'plugin.json'), 'utf8'),
          ) as { entry: string };
          const module = (await import(
            pathToFileURL(path.join(pluginRoot, manifest.entry)).href
          )) as {
            activate(host: unknown): Promise<ActivatedPlugin>;
          };
          const provider = { id: 'packed-relay', webhook: { callback_url: relay.url } };
          plugin = await module.activate({
            dataDir,
            app: { version: '1.6.0', platform: 'darwin', locale: 'en' },
            config: {
              relays: { 'packed-relay': { secret: SECRET } },
              network: { allowPrivateAddresses: true, extraCaCertificates: [relay.ca] },
            },
            relays: { get: (id: string) => (id === provider.id ? provider : undefined) },
          });

          const result = await plugin.hooks['connect:confirmed']({
            relay: 'packed-relay',
            key: KEY,
            ref: `from-${kind}`,
            flowId: 'flow-1',
          });
          expect(result.queued).toBe(true);

          const [request] = await relay.waitForRequests(1);
          const body = new Webhook(SECRET).verify(request!.body.toString('utf8'), {
            'webhook-id': String(request!.headers['webhook-id']),
            'webhook-timestamp': String(request!.headers['webhook-timestamp']),
            'webhook-signature': String(request!.headers['webhook-signature']),
          }) as Record<string, unknown>;

          expect(body).toMatchObject({
            status: 'success',
            relay_id: 'packed-relay',
            ref: `from-${kind}`,
            key_prefix: 'sk-pack',
            client: { plugin_version: packageJson.version, platform: 'macos' },
          });
          expect(result).toEqual({ queued: true, eventId: body.event_id });
        } finally {
          await plugin?.deactivate();
          await relay?.close();
          await fs.rm(dataDir, { recursive: true, force: true });
          await fs.rm(folder, { recursive: true, force: true });
        }
      });
    });
  }
});
