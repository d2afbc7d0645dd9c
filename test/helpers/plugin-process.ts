import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const childScript = path.join(root, 'test/helpers/plugin-child.mjs');

/** The built entry that the child imports; `npm test` builds it before Vitest runs. */
export const BUILT_ENTRY = path.join(root, 'dist/plugin/index.js');

export interface ChildOptions {
  dataDir: string;
  url: string;
  ca: string;
  key: string;
  mode: 'queue' | 'count' | 'drain';
  count?: number;
  workers?: number;
  /** Pause of each queueing worker between two outcomes, in milliseconds. */
  pauseMs?: number;
}

/** A plugin child process and what it printed so far. */
export interface PluginProcess {
  child: ChildProcess;
  /** Lines of stdout, in order (see plugin-child.mjs for their format). */
  lines: string[];
  /** Everything written to stderr: the plugin's log as JSON lines. */
  stderr: () => string;
  /** Resolves with the first stdout line that starts with `prefix`. */
  waitForLine(prefix: string, timeoutMs: number): Promise<string>;
  /** Resolves with the exit code or signal once the process has exited. */
  exited: Promise<string>;
}

export function builtEntryExists(): boolean {
  return existsSync(BUILT_ENTRY);
}

/** Starts plugin-child.mjs with `options`; the caller kills or stops it. */
export function startPluginProcess(options: ChildOptions): PluginProcess {
  const child = spawn(process.execPath, [childScript], {
    env: { ...process.env, PLUGIN_CHILD: JSON.stringify(options) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  let stderr = '';

  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr += chunk;
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line);

    for (const wake of waiters) {
      wake();
    }
  });

  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => resolve(signal ?? String(code)));
  });

  return {
    child,
    lines,
    stderr: () => stderr,
    exited,
    waitForLine(prefix, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const line = lines.find((candidate) => candidate.startsWith(prefix));

          if (line !== undefined) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve(line);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(
              `plugin process printed no "${prefix}" line within ${timeoutMs} ms; ` +
                `last lines: ${lines.slice(-3).join(' | ')}; stderr: ${stderr.slice(-500)}`,
            ),
          );
        }, timeoutMs);

        waiters.add(check);
        check();
      });
    },
  };
}

/** A small seeded generator (mulberry32), so that a run's kill times can be repeated. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;

  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4_294_967_296;
  };
}
