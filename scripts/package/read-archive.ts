import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { list as listTar } from 'tar';
import yauzl from 'yauzl';

/** One archive entry: its name as stored, and the file contents (`undefined` for a folder). */
export interface ArchiveEntry {
  name: string;
  contents: Buffer | undefined;
}

export type ArchiveFormat = 'zip' | 'gzip';

/** File signatures: a zip starts with `PK`, a gzip stream with 1f 8b. */
const MAGIC: Record<ArchiveFormat, readonly number[]> = {
  zip: [0x50, 0x4b],
  gzip: [0x1f, 0x8b],
};

/** Maps a package file name to the archive format its extension promises. */
export function formatForFileName(fileName: string): ArchiveFormat | undefined {
  if (fileName.endsWith('.zip')) {
    return 'zip';
  }

  if (fileName.endsWith('.tar.gz') || fileName.endsWith('.tgz')) {
    return 'gzip';
  }

  return undefined;
}

/** Returns true when the file starts with the signature of `format`. */
export async function hasMagicBytes(filePath: string, format: ArchiveFormat): Promise<boolean> {
  const handle = await open(filePath, 'r');

  try {
    const header = Buffer.alloc(4);
    const { bytesRead } = await handle.read(header, 0, header.length, 0);
    const magic = MAGIC[format];
    return bytesRead >= magic.length && magic.every((byte, index) => header[index] === byte);
  } finally {
    await handle.close();
  }
}

/** Reads every entry of a zip or gzip-compressed tar archive into memory, in stored order. */
export function readArchive(filePath: string, format: ArchiveFormat): Promise<ArchiveEntry[]> {
  return format === 'zip' ? readZip(filePath) : readTarGz(filePath);
}

async function readZip(filePath: string): Promise<ArchiveEntry[]> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) => {
    yauzl.open(filePath, { lazyEntries: true, autoClose: true }, (error, file) =>
      error === null ? resolve(file) : reject(error),
    );
  });
  const entries: ArchiveEntry[] = [];

  await new Promise<void>((resolve, reject) => {
    zip.on('error', reject);
    zip.on('end', resolve);
    zip.on('entry', (entry: yauzl.Entry) => {
      if (entry.fileName.endsWith('/')) {
        entries.push({ name: entry.fileName, contents: undefined });
        zip.readEntry();
        return;
      }

      zip.openReadStream(entry, (error, stream) => {
        if (error !== null) {
          reject(error);
          return;
        }

        collect(stream)
          .then((contents) => {
            entries.push({ name: entry.fileName, contents });
            zip.readEntry();
          })
          .catch(reject);
      });
    });
    zip.readEntry();
  });

  return entries;
}

async function readTarGz(filePath: string): Promise<ArchiveEntry[]> {
  const entries: ArchiveEntry[] = [];
  const pending: Promise<void>[] = [];

  await listTar({
    file: filePath,
    strict: true,
    onReadEntry: (entry) => {
      if (entry.type === 'Directory') {
        entries.push({ name: entry.path, contents: undefined });
        entry.resume();
        return;
      }

      const record: ArchiveEntry = { name: entry.path, contents: undefined };
      entries.push(record);
      pending.push(
        collect(entry as unknown as Readable).then((contents) => {
          record.contents = contents;
        }),
      );
    },
  });
  await Promise.all(pending);
  return entries;
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];

  for await (const chunk of stream) {
    chunks.push(Buffer.from(chunk as Uint8Array));
  }

  return Buffer.concat(chunks);
}
