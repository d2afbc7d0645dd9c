import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { checkManifest } from '../../src/manifest/manifest-rules.js';
import {
  formatForFileName,
  hasMagicBytes,
  readArchive,
  type ArchiveEntry,
} from './read-archive.js';

/** File name Lime's installer looks for, at the archive root or in one top folder. */
export const INSTALLER_MANIFEST_NAME = 'plugin.json';

/** Checksum file in the `sha256sum` format: `<hex digest>  <path>` per line. */
export const CHECKSUM_FILE_NAME = 'SHA256SUMS';

/** One broken rule: a short rule name and a sentence about what failed. */
export interface PackageProblem {
  rule: string;
  message: string;
}

export interface CheckOptions {
  /**
   * Also applies this project's own packaging rules: no node_modules, no source maps, no test
   * files, no absolute path of the build folder in any file, and a complete SHA256SUMS.
   */
  buildRoot?: string;
}

/**
 * Checks a package file as Lime's plugin installer does. The extension must be .zip, .tar.gz or
 * .tgz, and the file must start with the zip or gzip signature. The archive must be readable and
 * not empty, with a name for every entry. plugin.json must pass the manifest rules, and the entry
 * file it names must exist beside it. Returns every broken rule, or an empty list.
 */
export async function checkPackage(
  filePath: string,
  options: CheckOptions = {},
): Promise<PackageProblem[]> {
  const format = formatForFileName(filePath);

  if (format === undefined) {
    return [
      problem(
        'archive-format',
        `expected a .zip, .tar.gz or .tgz file, received ${path.basename(filePath)}`,
      ),
    ];
  }

  if ((await stat(filePath)).size === 0) {
    return [problem('not-empty', `${path.basename(filePath)} is an empty file`)];
  }

  if (!(await hasMagicBytes(filePath, format))) {
    const expected = format === 'zip' ? 'zip signature "PK"' : 'gzip signature 1f 8b';
    return [
      problem('archive-format', `${path.basename(filePath)} does not start with the ${expected}`),
    ];
  }

  let entries: ArchiveEntry[];

  try {
    entries = await readArchive(filePath, format);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return [problem('archive-readable', `${path.basename(filePath)} could not be read: ${reason}`)];
  }

  if (entries.length === 0) {
    return [problem('not-empty', `${path.basename(filePath)} contains no entries`)];
  }

  const problems: PackageProblem[] = [];

  for (const [index, entry] of entries.entries()) {
    if (entry.name.trim() === '' || entry.name === './') {
      problems.push(problem('entry-names', `entry ${index} has an empty name`));
    }
  }

  problems.push(...checkContents(entries));

  if (options.buildRoot !== undefined) {
    problems.push(...checkProjectRules(entries, options.buildRoot));
  }

  return problems;
}

/** Finds plugin.json as the installer does and checks the manifest and its entry file. */
function checkContents(entries: ArchiveEntry[]): PackageProblem[] {
  const manifestEntry = entries.find(
    (entry) =>
      entry.contents !== undefined && path.posix.basename(entry.name) === INSTALLER_MANIFEST_NAME,
  );

  if (manifestEntry?.contents === undefined) {
    return [problem('plugin-json', `no ${INSTALLER_MANIFEST_NAME} in the archive`)];
  }

  let manifest: unknown;

  try {
    manifest = JSON.parse(manifestEntry.contents.toString('utf8'));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return [problem('plugin-json', `${manifestEntry.name} is not valid JSON: ${reason}`)];
  }

  const problems = checkManifest(manifest).map((broken) =>
    problem(
      `manifest ${broken.field}`,
      `${manifestEntry.name}: ${broken.field}: ${broken.message}`,
    ),
  );
  const entryPath = (manifest as { entry?: unknown }).entry;

  if (typeof entryPath === 'string' && entryPath.trim() !== '') {
    const root = path.posix.dirname(manifestEntry.name);
    const expected = path.posix.normalize(path.posix.join(root, entryPath));
    const found = entries.some(
      (entry) => entry.contents !== undefined && path.posix.normalize(entry.name) === expected,
    );

    if (!found) {
      problems.push(
        problem('entry-exists', `entry ${entryPath} is not in the archive (expected ${expected})`),
      );
    }
  }

  return problems;
}

function checkProjectRules(entries: ArchiveEntry[], buildRoot: string): PackageProblem[] {
  const problems: PackageProblem[] = [];
  const files = entries.filter((entry) => entry.contents !== undefined);

  for (const { name, contents } of files) {
    const parts = name.split('/');

    if (parts.includes('node_modules')) {
      problems.push(problem('no-node-modules', `${name} is inside node_modules`));
    }

    if (name.endsWith('.map') || contents?.includes('sourceMappingURL=')) {
      problems.push(problem('no-source-maps', `${name} is or references a source map`));
    }

    if (/\.(test|spec)\.[cm]?[jt]sx?$/.test(name) || parts.includes('test')) {
      problems.push(problem('no-test-files', `${name} is a test file`));
    }

    if (contents?.includes(buildRoot)) {
      problems.push(
        problem('no-absolute-paths', `${name} contains the build folder path ${buildRoot}`),
      );
    }
  }

  problems.push(...checkChecksums(files));
  return problems;
}

/** Requires one SHA256SUMS that lists every other file once with its correct digest. */
function checkChecksums(files: ArchiveEntry[]): PackageProblem[] {
  const sums = files.find((entry) => path.posix.basename(entry.name) === CHECKSUM_FILE_NAME);

  if (sums?.contents === undefined) {
    return [problem('checksums', `no ${CHECKSUM_FILE_NAME} in the archive`)];
  }

  const root = path.posix.dirname(sums.name);
  const listed = parseChecksums(sums.contents.toString('utf8'));
  const problems: PackageProblem[] = [];

  for (const { name, contents } of files) {
    if (name === sums.name || contents === undefined) {
      continue;
    }

    const relative = path.posix.relative(root, name);
    const expected = listed.get(relative);
    const actual = sha256(contents);

    if (expected === undefined) {
      problems.push(problem('checksums', `${relative} is missing from ${CHECKSUM_FILE_NAME}`));
    } else if (expected !== actual) {
      problems.push(
        problem('checksums', `${relative}: expected SHA-256 ${expected}, computed ${actual}`),
      );
    }

    listed.delete(relative);
  }

  for (const name of listed.keys()) {
    problems.push(
      problem('checksums', `${CHECKSUM_FILE_NAME} lists ${name}, which is not in the archive`),
    );
  }

  return problems;
}

/** Parses `sha256sum` output: a 64-digit hex digest, two spaces (or space and `*`), a path. */
export function parseChecksums(text: string): Map<string, string> {
  const digests = new Map<string, string>();

  for (const line of text.split('\n')) {
    const match = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);

    if (match?.[1] !== undefined && match[2] !== undefined) {
      digests.set(match[2], match[1]);
    }
  }

  return digests;
}

export function sha256(contents: Buffer): string {
  return createHash('sha256').update(contents).digest('hex');
}

function problem(rule: string, message: string): PackageProblem {
  return { rule, message };
}
