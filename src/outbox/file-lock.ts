import { promises as fs } from 'node:fs';
import os from 'node:os';

export interface FileLock {
  release(): Promise<void>;
}

interface LockContent {
  pid: number;
  host: string;
  at: number;
}

/** A lock older than this is stale even when its process seems alive (pid reuse). */
const STALE_AFTER_MS = 120_000;

/**
 * Takes an advisory lock by creating `lockPath` exclusively. Returns undefined when a live
 * process holds it. A lock left by a process that has exited is taken over.
 */
export async function acquireFileLock(lockPath: string): Promise<FileLock | undefined> {
  const content: LockContent = { pid: process.pid, host: os.hostname(), at: Date.now() };
  const text = JSON.stringify(content);

  for (let tries = 0; tries < 2; tries += 1) {
    try {
      await fs.writeFile(lockPath, text, { flag: 'wx', mode: 0o600 });
      return { release: () => releaseLock(lockPath, text) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw error;
      }
    }

    const existing = await fs.readFile(lockPath, 'utf8').catch(() => undefined);

    if (existing !== undefined && !isStale(existing)) {
      return undefined;
    }

    // Move the stale lock aside under a unique name; only one process succeeds, and it checks
    // that what it moved is the stale lock it read, not a fresh one taken in the meantime.
    const asidePath = `${lockPath}.${process.pid}.${Date.now()}.stale`;

    try {
      await fs.rename(lockPath, asidePath);
    } catch {
      continue;
    }

    const moved = await fs.readFile(asidePath, 'utf8').catch(() => undefined);

    if (moved !== existing) {
      await fs.rename(asidePath, lockPath).catch(() => undefined);
      return undefined;
    }

    await fs.rm(asidePath, { force: true });
  }

  return undefined;
}

async function releaseLock(lockPath: string, text: string): Promise<void> {
  const current = await fs.readFile(lockPath, 'utf8').catch(() => undefined);

  if (current === text) {
    await fs.rm(lockPath, { force: true });
  }
}

function isStale(text: string): boolean {
  let content: Partial<LockContent>;

  try {
    content = JSON.parse(text) as Partial<LockContent>;
  } catch {
    return true;
  }

  if (typeof content.pid !== 'number' || typeof content.at !== 'number') {
    return true;
  }

  if (Date.now() - content.at > STALE_AFTER_MS) {
    return true;
  }

  if (content.host !== os.hostname()) {
    return false;
  }

  try {
    process.kill(content.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'EPERM';
  }
}
