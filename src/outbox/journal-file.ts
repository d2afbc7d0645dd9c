import { constants as fsConstants, promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';

/**
 * An append-only journal shared by every process that opens the same data folder.
 *
 * Each record is written as `\n<json>\n` in a single `write()` on a file opened with
 * `O_APPEND`, so records from two processes never interleave and a torn record (a crash in the
 * middle of a write) stays on a line of its own: the next record starts with a newline.
 * Records queued while a write is in flight are written together, and one `fdatasync` makes a
 * whole batch durable (group commit), so the cost of one append does not grow with the
 * number of records already in the file.
 */
export interface JournalLine {
  /** Byte offset of the line's first character. */
  offset: number;
  text: string;
}

export interface JournalReadResult {
  lines: JournalLine[];
  /** Set when the file was replaced (compacted by any process) since the last read. */
  replaced: boolean;
}

interface PendingWrite {
  data: string;
  durable: boolean;
  /** Called once the record is in the current file, possibly before it is synced. */
  written: (() => void) | undefined;
  resolve: () => void;
  reject: (error: unknown) => void;
}

const NEWLINE = 0x0a;
const READ_CHUNK_BYTES = 4 * 1024;
const MAX_READ_CHUNK_BYTES = 8 * 1024 * 1024;

export class JournalFile {
  readonly filePath: string;
  private handle: FileHandle | undefined;
  private inode = 0;
  private generation = 0;
  private readGeneration = 0;
  private readOffset = 0;
  private partialStart = -1;
  private queue: PendingWrite[] = [];
  private flushing: Promise<void> | undefined;
  /** The batch being written now, if any. */
  private writing: Promise<void> | undefined;
  /** Set while `replaceWith` swaps the file; batches wait for it. */
  private replacing: Promise<void> | undefined;
  private closed = false;
  /** Set when a write has just found the inode unchanged; the next `readNew` skips its stat. */
  private inodeCheckedByWrite = false;
  /** First read chunk of `readFrom`; taken while a read uses it, so concurrent reads get their own. */
  private readScratch: Buffer | undefined = Buffer.allocUnsafe(READ_CHUNK_BYTES);

  constructor(filePath: string) {
    this.filePath = filePath;
  }

  async open(): Promise<void> {
    await fs.mkdir(path.dirname(this.filePath), { recursive: true });
    await this.reopen();
  }

  /**
   * Queues one serialised record; resolves once written, and once on disk when `durable`.
   * `written` is called as soon as the record is in the file, while its sync may still run,
   * so that the caller can read it back in the meantime.
   */
  append(json: string, durable: boolean, written?: () => void): Promise<void> {
    if (this.closed) {
      return Promise.reject(new Error('journal is closed'));
    }

    return new Promise<void>((resolve, reject) => {
      this.queue.push({ data: `\n${json}\n`, durable, written, resolve, reject });
      this.flushing ??= this.flush();
    });
  }

  /**
   * Reads every complete line added since the last read. A line without its final newline is
   * either being written by another process or was torn by a crash, so it is left for later.
   */
  async readNew(): Promise<JournalReadResult> {
    if (this.inodeCheckedByWrite) {
      // The write that just finished checked the inode; a second stat would only add latency
      // to every enqueue. A replacement after that check is seen by the next read, as one
      // after this method's own check would be.
      this.inodeCheckedByWrite = false;
    } else {
      await this.checkReplaced();
    }

    const replaced = this.readGeneration !== this.generation;
    this.readGeneration = this.generation;
    const buffer = await this.readFrom(this.readOffset);
    const bytesRead = buffer.length;

    if (bytesRead === 0) {
      return { lines: [], replaced };
    }

    const lines: JournalLine[] = [];
    let lineStart = 0;

    for (let index = 0; index < bytesRead; index += 1) {
      if (buffer[index] !== NEWLINE) {
        continue;
      }

      if (index > lineStart) {
        lines.push({
          offset: this.readOffset + lineStart,
          text: buffer.toString('utf8', lineStart, index),
        });
      }

      lineStart = index + 1;
    }

    this.partialStart = lineStart < bytesRead ? this.readOffset + lineStart : -1;
    this.readOffset += lineStart;
    return { lines, replaced };
  }

  /**
   * Reads from `offset` to the end of the file in growing chunks, stopping at the first short
   * read, so that the usual case (a few new records) costs one read and no stat.
   */
  private async readFrom(offset: number): Promise<Buffer> {
    const handle = this.requireHandle();
    const chunks: Buffer[] = [];
    let chunkBytes = READ_CHUNK_BYTES;
    let total = 0;
    // The first chunk goes into a buffer kept for this file and is copied out at its length,
    // so that a read of a few records allocates a few hundred bytes, not a whole chunk.
    const scratch = this.readScratch;
    this.readScratch = undefined;

    try {
      for (;;) {
        const chunk =
          chunks.length === 0 && scratch !== undefined ? scratch : Buffer.allocUnsafe(chunkBytes);
        const { bytesRead } = await handle.read(chunk, 0, chunkBytes, offset + total);
        total += bytesRead;

        if (bytesRead > 0) {
          const bytes = chunk.subarray(0, bytesRead);
          chunks.push(chunk === scratch ? Buffer.from(bytes) : bytes);
        }

        if (bytesRead < chunkBytes) {
          break;
        }

        chunkBytes = Math.min(chunkBytes * 2, MAX_READ_CHUNK_BYTES);
      }
    } finally {
      this.readScratch = scratch ?? Buffer.allocUnsafe(READ_CHUNK_BYTES);
    }

    return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, total);
  }

  /** Returns the bytes of an unterminated last line, which a crash left torn, if any. */
  async readUnterminatedTail(): Promise<string | undefined> {
    if (this.partialStart < 0) {
      return undefined;
    }

    const handle = this.requireHandle();
    const { size } = await handle.stat();
    const buffer = Buffer.alloc(size - this.partialStart);
    await handle.read(buffer, 0, buffer.length, this.partialStart);
    return buffer.toString('utf8');
  }

  /** Reads the whole file again from the first byte on the next `readNew()`. */
  rewind(): void {
    this.readOffset = 0;
    this.partialStart = -1;
  }

  get size(): number {
    return this.readOffset;
  }

  /**
   * Replaces the journal with `records` atomically (write, fsync, rename, fsync the folder),
   * then copies over whatever other processes appended to the old file after `fromOffset`, so
   * that a record written during the swap is not lost. Appenders that still write to the old
   * file notice the new inode after their write and append again (see `flush`).
   */
  async replaceWith(records: string[], fromOffset: number): Promise<void> {
    // This process's own writes pause during the swap: a batch written to the old handle while
    // it is closed would fail, and the records in it would be lost.
    let finishReplacing = (): void => undefined;
    this.replacing = new Promise<void>((resolve) => {
      finishReplacing = resolve;
    });

    try {
      await this.writing?.catch(() => undefined);
      await this.swapFile(records, fromOffset);
    } finally {
      this.replacing = undefined;
      finishReplacing();
    }
  }

  private async swapFile(records: string[], fromOffset: number): Promise<void> {
    const temporaryPath = `${this.filePath}.${process.pid}.tmp`;
    const temporary = await fs.open(temporaryPath, 'w', 0o600);

    try {
      const text = records.map((record) => `\n${record}\n`).join('');
      await temporary.writeFile(text, 'utf8');
      await temporary.datasync();
    } finally {
      await temporary.close();
    }

    await fs.rename(temporaryPath, this.filePath);
    await syncDirectory(path.dirname(this.filePath));

    const oldHandle = this.requireHandle();
    const { size } = await oldHandle.stat();

    if (size > fromOffset) {
      const buffer = Buffer.alloc(size - fromOffset);
      await oldHandle.read(buffer, 0, buffer.length, fromOffset);
      // Only complete lines: an unterminated one is either torn by a crash or still being
      // written by a process that will see the new inode and write it again.
      const tail = buffer.subarray(0, buffer.lastIndexOf(NEWLINE) + 1);
      const appended = await fs.open(this.filePath, 'a');

      try {
        await appended.write(Buffer.concat([Buffer.from('\n'), tail, Buffer.from('\n')]));
        await appended.datasync();
      } finally {
        await appended.close();
      }
    }

    await this.reopen();
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.flushing;
    await this.handle?.close();
    this.handle = undefined;
  }

  private async flush(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        // A compaction in this process is swapping the file; the batch goes into the new one.
        while (this.replacing !== undefined) {
          await this.replacing;
        }

        const batch = this.queue;
        this.queue = [];

        try {
          this.writing = this.writeBatch(batch);
          await this.writing;

          for (const item of batch) {
            item.resolve();
          }
        } catch (error) {
          for (const item of batch) {
            item.reject(error);
          }
        } finally {
          this.writing = undefined;
        }
      }
    } finally {
      this.flushing = undefined;
    }
  }

  private async writeBatch(batch: PendingWrite[]): Promise<void> {
    const data = Buffer.from(batch.map((item) => item.data).join(''), 'utf8');
    const durable = batch.some((item) => item.durable);

    // A compaction in another process may rename a new file into place between our open and
    // our write; the write then lands in the replaced file, so it is repeated in the new one.
    for (let tries = 0; tries < 5; tries += 1) {
      const handle = this.requireHandle();
      await handle.write(data, 0, data.length, null);
      // The inode check only needs the write to have landed, so it runs alongside the sync.
      // Closing the replaced handle in `reopen` waits for the sync still running on it.
      const synced = durable ? handle.datasync() : Promise.resolve();
      // Marks a sync failure as handled while the inode check runs; it is still awaited below.
      synced.catch(() => undefined);
      let replaced: boolean;

      try {
        replaced = await this.checkReplaced();
      } catch (error) {
        await synced.catch(() => undefined);
        throw error;
      }

      if (!replaced) {
        this.inodeCheckedByWrite = true;

        for (const item of batch) {
          item.written?.();
        }

        await synced;
        return;
      }

      // A sync failure of the replaced file does not matter: the batch is written again.
      await synced.catch(() => undefined);
    }

    throw new Error(`journal ${this.filePath} kept being replaced during a write`);
  }

  /** Reopens the path when another process has renamed a new journal over it. */
  private async checkReplaced(): Promise<boolean> {
    let currentInode: number;

    try {
      currentInode = (await fs.stat(this.filePath)).ino;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw error;
      }

      currentInode = -1;
    }

    if (currentInode === this.inode) {
      return false;
    }

    await this.reopen();
    return true;
  }

  private async reopen(): Promise<void> {
    const previous = this.handle;
    const flags = fsConstants.O_APPEND | fsConstants.O_CREAT | fsConstants.O_RDWR;
    this.handle = await fs.open(this.filePath, flags, 0o600);
    this.inode = (await this.handle.stat()).ino;
    this.generation += 1;
    this.rewind();
    await previous?.close();
  }

  private requireHandle(): FileHandle {
    if (this.handle === undefined) {
      throw new Error('journal is not open');
    }

    return this.handle;
  }
}

/** Makes a rename durable; some file systems refuse to open a folder, which is safe to skip. */
export async function syncDirectory(directory: string): Promise<void> {
  let handle: FileHandle | undefined;

  try {
    handle = await fs.open(directory, 'r');
    await handle.sync();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;

    if (code !== 'EISDIR' && code !== 'EINVAL' && code !== 'EPERM') {
      throw error;
    }
  } finally {
    await handle?.close();
  }
}
