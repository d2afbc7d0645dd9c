/**
 * Builds the installable packages `connect-webhook-<version>.zip` and `.tgz` from the built
 * entry (run `npm run build` first; `npm run pack` does both). Each archive contains one folder
 * named after the plugin with plugin.manifest.json, the same manifest as plugin.json (the name
 * Lime's installer looks for), the bundled entry, the panel's built assets when dist/panel
 * exists, README.md, LICENSE and SHA256SUMS. Each archive is checked as Lime's installer checks
 * it before it is moved into place; a package that breaks a rule is not written, and the process
 * exits 1 naming the rule.
 *
 * Options: --out-dir DIR (default dist), --manifest FILE (default plugin.manifest.json).
 */
import { createWriteStream, existsSync } from 'node:fs';
import {
  copyFile,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { create as createTar } from 'tar';
import yazl from 'yazl';
import { checkManifest } from '../src/manifest/manifest-rules.js';
import {
  CHECKSUM_FILE_NAME,
  checkPackage,
  INSTALLER_MANIFEST_NAME,
  sha256,
} from './package/check-package.js';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

export interface PackResult {
  files: string[];
  archives: { path: string; bytes: number }[];
  entryBytes: number;
}

/** Thrown when a package breaks a rule; `rule` names it. */
export class PackageRuleError extends Error {
  constructor(
    readonly rule: string,
    message: string,
  ) {
    super(`${rule}: ${message}`);
    this.name = 'PackageRuleError';
  }
}

interface Manifest {
  name: string;
  version: string;
  entry: string;
}

/** Stages, archives, checks and writes both packages. */
export async function pack(options: { outDir: string; manifestPath: string }): Promise<PackResult> {
  const manifestText = await readFile(options.manifestPath, 'utf8');
  const manifest = parseManifest(manifestText, options.manifestPath);
  const packageJson = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as {
    version: string;
  };

  if (manifest.version !== packageJson.version) {
    throw new PackageRuleError(
      'manifest version',
      `expected package.json's version ${packageJson.version}, received ${manifest.version}: run npm run manifest`,
    );
  }

  const files = await collectFiles(manifest, manifestText);
  const staging = await mkdtemp(path.join(os.tmpdir(), 'connect-webhook-pack-'));

  try {
    const folder = path.join(staging, manifest.name);

    for (const [name, contents] of files) {
      await mkdir(path.dirname(path.join(folder, name)), { recursive: true });
      await writeFile(path.join(folder, name), contents);
    }

    const names = [...files.keys()];
    const baseName = `${manifest.name}-${manifest.version}`;
    const zipPath = path.join(staging, `${baseName}.zip`);
    const tgzPath = path.join(staging, `${baseName}.tgz`);
    const mtime = packageDate();

    await writeZip(zipPath, folder, manifest.name, names, mtime);
    await createTar(
      {
        file: tgzPath,
        cwd: staging,
        gzip: { level: 9 },
        portable: true,
        mtime,
        noDirRecurse: false,
      },
      names.map((name) => `${manifest.name}/${name}`),
    );

    for (const archive of [zipPath, tgzPath]) {
      const problems = await checkPackage(archive, { buildRoot: root });

      if (problems.length > 0) {
        const [first] = problems;
        const detail = problems.map((broken) => `${broken.rule}: ${broken.message}`).join('; ');
        throw new PackageRuleError(
          first?.rule ?? 'package',
          `${path.basename(archive)}: ${detail}`,
        );
      }
    }

    await mkdir(options.outDir, { recursive: true });
    const archives: PackResult['archives'] = [];

    for (const archive of [zipPath, tgzPath]) {
      const destination = path.join(options.outDir, path.basename(archive));
      await moveFile(archive, destination);
      archives.push({ path: destination, bytes: (await stat(destination)).size });
    }

    return {
      files: names,
      archives,
      entryBytes: files.get(manifest.entry)?.length ?? 0,
    };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

function parseManifest(text: string, source: string): Manifest {
  let manifest: unknown;

  try {
    manifest = JSON.parse(text);
  } catch (error) {
    throw new PackageRuleError('plugin-json', `${source} is not valid JSON: ${String(error)}`);
  }

  const [broken] = checkManifest(manifest);

  if (broken !== undefined) {
    throw new PackageRuleError(`manifest ${broken.field}`, `${source}: ${broken.message}`);
  }

  return manifest as Manifest;
}

/** Lists the package's files, relative to the plugin folder, with their contents. */
async function collectFiles(
  manifest: Manifest,
  manifestText: string,
): Promise<Map<string, Buffer>> {
  // plugin.json comes first: Lime's installer takes the first entry with that name.
  const files = new Map<string, Buffer>([
    [INSTALLER_MANIFEST_NAME, Buffer.from(manifestText)],
    ['plugin.manifest.json', Buffer.from(manifestText)],
  ]);
  const entryPath = path.join(root, manifest.entry);

  if (!existsSync(entryPath)) {
    throw new PackageRuleError('entry-exists', `${manifest.entry} is missing: run npm run build`);
  }

  files.set(manifest.entry, await readFile(entryPath));

  // Marks the entry's folder as ES modules, so that Node loads the `.js` entry as one without
  // relying on its syntax detection, which older Node versions lack.
  const modulePackage = path.join(path.dirname(entryPath), 'package.json');

  if (existsSync(modulePackage)) {
    files.set(
      path.posix.join(path.posix.dirname(manifest.entry), 'package.json'),
      await readFile(modulePackage),
    );
  }

  // The panel is optional: its assets are included when its build has produced them.
  for (const name of await listFiles(path.join(root, 'dist', 'panel'))) {
    files.set(`dist/panel/${name}`, await readFile(path.join(root, 'dist', 'panel', name)));
  }

  for (const name of ['README.md', 'LICENSE']) {
    files.set(name, await readFile(path.join(root, name)));
  }

  for (const name of [...files.keys()]) {
    if (name.endsWith('.map')) {
      files.delete(name);
    }
  }

  const sums = [...files].map(([name, contents]) => `${sha256(contents)}  ${name}\n`).join('');
  files.set(CHECKSUM_FILE_NAME, Buffer.from(sums));
  return files;
}

/** Lists the files under `folder` as sorted POSIX paths; none when it does not exist. */
async function listFiles(folder: string): Promise<string[]> {
  if (!existsSync(folder)) {
    return [];
  }

  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) =>
      path.relative(folder, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'),
    )
    .sort();
}

function writeZip(
  zipPath: string,
  folder: string,
  top: string,
  names: string[],
  mtime: Date,
): Promise<void> {
  const zip = new yazl.ZipFile();

  for (const name of names) {
    zip.addFile(path.join(folder, name), `${top}/${name}`, { mtime, mode: 0o100644 });
  }

  zip.end();
  return new Promise((resolve, reject) => {
    zip.outputStream.pipe(createWriteStream(zipPath)).on('close', resolve).on('error', reject);
  });
}

/** `SOURCE_DATE_EPOCH` (seconds) when set, for reproducible archives; otherwise now. */
function packageDate(): Date {
  const epoch = Number(process.env.SOURCE_DATE_EPOCH);
  return Number.isFinite(epoch) && process.env.SOURCE_DATE_EPOCH !== ''
    ? new Date(epoch * 1000)
    : new Date();
}

/** Moves a file, copying when the temporary folder is on another file system. */
async function moveFile(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') {
      throw error;
    }

    await copyFile(from, to);
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({
    options: {
      'out-dir': { type: 'string', default: path.join(root, 'dist') },
      manifest: { type: 'string', default: path.join(root, 'plugin.manifest.json') },
    },
  });

  try {
    const result = await pack({
      outDir: path.resolve(values['out-dir']),
      manifestPath: path.resolve(values.manifest),
    });

    for (const archive of result.archives) {
      console.log(`wrote ${archive.path} (${archive.bytes} bytes)`);
    }

    console.log(`entry ${result.entryBytes} bytes; files: ${result.files.join(', ')}`);
  } catch (error) {
    if (error instanceof PackageRuleError) {
      console.error(`package not written: ${error.message}`);
      process.exit(1);
    }

    throw error;
  }
}
