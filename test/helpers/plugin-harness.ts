import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LimeHost } from '../../src/host.js';
import type { ConnectWebhookPlugin } from '../../src/plugin.js';

/** A full-length API key that must never appear on disk, in a log or in the runtime's state. */
export const FULL_API_KEY = 'sk-live-REL1ABILITY0123456789abcdefghijklmnopqrstuv';

/** A signing secret for tests: 32 bytes of base64 after `whsec_`. */
export const TEST_SECRET = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;

export interface RecordedHost extends LimeHost {
  /** Every log line, as `level message details-as-JSON`. */
  logLines: string[];
}

/** Creates a host whose log is recorded line by line; `config` is passed as given. */
export function recordingHost(dataDir: string, config: unknown): RecordedHost {
  const logLines: string[] = [];
  const record =
    (level: string) =>
    (...args: unknown[]) => {
      const text = args
        .map((argument) => (typeof argument === 'string' ? argument : JSON.stringify(argument)))
        .join(' ');
      logLines.push(`${level} ${text}`);
    };

  return {
    dataDir,
    app: { version: '1.6.0', platform: 'linux', locale: 'en' },
    config,
    log: {
      debug: record('debug'),
      info: record('info'),
      warn: record('warn'),
      error: record('error'),
    },
    logLines,
  };
}

/** Settings that send relay `acme` to a loopback test relay trusted through its CA. */
export function loopbackConfig(
  url: string,
  ca: string,
  overrides: { timeoutMs?: number; secret?: string } = {},
): Record<string, unknown> {
  return {
    relays: {
      acme: {
        callbackUrl: url,
        ...(overrides.secret === undefined ? {} : { secret: overrides.secret }),
      },
    },
    retry: { initialDelayMs: 100, maxDelayMs: 2000, maxAgeHours: 72 },
    network: {
      allowPrivateAddresses: true,
      extraCaCertificates: [ca],
      timeoutMs: overrides.timeoutMs ?? 1000,
    },
  };
}

export async function makeDataDir(prefix: string): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), `${prefix}-`));
}

/** Polls `check` every 20 ms until it returns a value other than undefined or false. */
export async function waitFor<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  description: string,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;

  for (;;) {
    const value = await check();

    if (value !== undefined && value !== false) {
      return value;
    }

    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${description}`);
    }

    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Lists every file under `directory`, recursively. */
export async function listFiles(directory: string): Promise<string[]> {
  const entries = await fs.readdir(directory, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name));
}

/**
 * Returns where `secret` occurs: file paths under `dataDir` (compared byte for byte, so UTF-8
 * and binary files count), and the labels of the given texts.
 */
export async function findSecret(
  secret: string,
  dataDir: string,
  texts: Record<string, string>,
): Promise<string[]> {
  const hits: string[] = [];
  const needle = Buffer.from(secret, 'utf8');

  for (const file of await listFiles(dataDir)) {
    const content = await fs.readFile(file);

    if (content.includes(needle)) {
      hits.push(file);
    }
  }

  for (const [label, text] of Object.entries(texts)) {
    if (text.includes(secret)) {
      hits.push(label);
    }
  }

  return hits;
}

/** Returns the texts a running plugin exposes: its outbox events, drop counters and status. */
export function exposedState(plugin: ConnectWebhookPlugin): Record<string, string> {
  const runtime = plugin.runtime;

  if (runtime === undefined) {
    return {};
  }

  return {
    'outbox events': JSON.stringify([...runtime.outbox.events()]),
    drops: JSON.stringify(runtime.drops),
    settings: JSON.stringify(runtime.settings.get()),
    status: JSON.stringify(runtime.status()),
  };
}
