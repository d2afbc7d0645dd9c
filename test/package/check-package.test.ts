import { execFile } from 'node:child_process';
import { createWriteStream, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { create as createTar } from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import yazl from 'yazl';
import { checkPackage } from '../../scripts/package/check-package.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const run = promisify(execFile);

const manifest = {
  name: 'sample-plugin',
  version: '1.0.0',
  entry: 'index.js',
  hooks: ['connect:confirmed'],
};

let folder: string;

beforeAll(async () => {
  folder = await fs.mkdtemp(path.join(os.tmpdir(), 'check-package-'));
});

afterAll(async () => {
  await fs.rm(folder, { recursive: true, force: true });
});

/** Writes a zip with the given entries; a `undefined` value adds a folder entry. */
async function zipOf(name: string, entries: Record<string, string | undefined>): Promise<string> {
  const file = path.join(folder, name);
  const zip = new yazl.ZipFile();

  for (const [entryName, contents] of Object.entries(entries)) {
    if (contents === undefined) {
      zip.addEmptyDirectory(entryName);
    } else {
      zip.addBuffer(Buffer.from(contents), entryName);
    }
  }

  zip.end();
  await new Promise<void>((resolve, reject) => {
    zip.outputStream
      .pipe(createWriteStream(file))
      .on('close', () => resolve())
      .on('error', reject);
  });
  return file;
}

async function tgzOf(name: string, entries: Record<string, string>): Promise<string> {
  const source = await fs.mkdtemp(path.join(folder, 'source-'));

  for (const [entryName, contents] of Object.entries(entries)) {
    await fs.mkdir(path.dirname(path.join(source, entryName)), { recursive: true });
    await fs.writeFile(path.join(source, entryName), contents);
  }

  const file = path.join(folder, name);
  await createTar({ file, cwd: source, gzip: true, portable: true }, Object.keys(entries));
  return file;
}

async function rulesBroken(file: string): Promise<string[]> {
  return (await checkPackage(file)).map((problem) => problem.rule);
}

describe('checkPackage', () => {
  it('accepts a plugin folder in a zip and a tgz', async () => {
    const entries = {
      'sample-plugin/plugin.json': JSON.stringify(manifest),
      'sample-plugin/index.js': 'export {}',
    };

    expect(await checkPackage(await zipOf('ok.zip', entries))).toEqual([]);
    expect(await checkPackage(await tgzOf('ok.tar.gz', entries))).toEqual([]);
  });

  it('accepts plugin.json at the archive root', async () => {
    const file = await zipOf('flat.zip', {
      'plugin.json': JSON.stringify(manifest),
      'index.js': 'export {}',
    });

    expect(await checkPackage(file)).toEqual([]);
  });

  it('rejects an unknown extension', async () => {
    const file = path.join(folder, 'plugin.rar');
    await fs.writeFile(file, 'Rar!');

    expect(await rulesBroken(file)).toEqual(['archive-format']);
  });

  it('rejects an empty file', async () => {
    const file = path.join(folder, 'empty.zip');
    await fs.writeFile(file, '');

    expect(await rulesBroken(file)).toEqual(['not-empty']);
  });

  it('rejects bytes without the signature', async () => {
    const zip = path.join(folder, 'text.zip');
    const tgz = path.join(folder, 'text.tgz');
    await fs.writeFile(zip, 'not a zip file');
    await fs.writeFile(tgz, 'not a gzip file');

    expect(await rulesBroken(zip)).toEqual(['archive-format']);
    expect(await rulesBroken(tgz)).toEqual(['archive-format']);
  });

  it('rejects a zip as a tgz', async () => {
    const zip = await zipOf('real.zip', { 'plugin.json': JSON.stringify(manifest) });
    const renamed = path.join(folder, 'real.tgz');
    await fs.copyFile(zip, renamed);

    expect(await rulesBroken(renamed)).toEqual(['archive-format']);
  });

  it('rejects a truncated archive', async () => {
    const zip = await zipOf('whole.zip', {
      'plugin.json': JSON.stringify(manifest),
      'index.js': 'x'.repeat(4096),
    });
    const bytes = await fs.readFile(zip);
    const truncated = path.join(folder, 'truncated.zip');
    await fs.writeFile(truncated, bytes.subarray(0, bytes.length - 40));

    expect(await rulesBroken(truncated)).toEqual(['archive-readable']);
  });

  it('rejects a zip without entries', async () => {
    expect(await rulesBroken(await zipOf('none.zip', {}))).toEqual(['not-empty']);
  });

  it('rejects a package without plugin.json', async () => {
    const file = await zipOf('no-manifest.zip', { 'plugin.manifest.json': '{}', 'index.js': '' });

    expect(await rulesBroken(file)).toEqual(['plugin-json']);
  });

  it('rejects plugin.json that is not JSON', async () => {
    const file = await tgzOf('broken.tgz', { 'plugin.json': '{ name: ', 'index.js': '' });

    expect(await rulesBroken(file)).toEqual(['plugin-json']);
  });

  it('rejects each broken manifest rule by name', async () => {
    const file = await zipOf('bad-manifest.zip', {
      'plugin.json': JSON.stringify({
        name: 'bad name',
        version: '1',
        entry: '',
        hooks: ['connect confirmed'],
      }),
    });

    expect(await rulesBroken(file)).toEqual([
      'manifest name',
      'manifest version',
      'manifest entry',
      'manifest hooks[0]',
    ]);
  });

  it('rejects a missing entry file', async () => {
    const file = await tgzOf('no-entry.tgz', {
      'sample-plugin/plugin.json': JSON.stringify(manifest),
      'index.js': 'export {}',
    });
    const [problem] = await checkPackage(file);

    expect(problem?.rule).toBe('entry-exists');
    expect(problem?.message).toContain('sample-plugin/index.js');
  });

  it('applies the project rules with a build root', async () => {
    const file = await zipOf('project.zip', {
      'p/plugin.json': JSON.stringify(manifest),
      'p/index.js': `//# sourceMappingURL=index.js.map\nconst at = "${root}";`,
      'p/node_modules/x/index.js': '',
      'p/test/a.test.js': '',
      'p/SHA256SUMS': `${'0'.repeat(64)}  plugin.json\n${'1'.repeat(64)}  gone.js\n`,
    });
    const rules = new Set((await checkPackage(file, { buildRoot: root })).map((p) => p.rule));

    expect([...rules].sort()).toEqual([
      'checksums',
      'no-absolute-paths',
      'no-node-modules',
      'no-source-maps',
      'no-test-files',
    ]);
  });
});

describe('scripts/pack.ts', () => {
  it('refuses a manifest that breaks a rule', async () => {
    const badManifest = path.join(folder, 'bad.manifest.json');
    const outDir = path.join(folder, 'refused');
    await fs.writeFile(badManifest, JSON.stringify({ ...manifest, version: 'latest' }));

    const failure = await run(
      path.join(root, 'node_modules', '.bin', 'tsx'),
      [path.join(root, 'scripts', 'pack.ts'), '--manifest', badManifest, '--out-dir', outDir],
      { cwd: root },
    ).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );

    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toContain('package not written: manifest version:');
    expect(failure?.stderr).toContain('expected x.y, x.y.z or x.y.z-suffix, received "latest"');
    await expect(fs.readdir(outDir)).rejects.toThrow(/ENOENT/);
  });
});
