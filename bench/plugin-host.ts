import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as Entry from '../src/index.js';

/** The built entry module, as Lime loads it. */
export const ENTRY_PATH = path.resolve(import.meta.dirname, '..', 'dist', 'plugin', 'index.js');

export type PluginEntry = typeof Entry;

/** Imports the built entry (`npm run build` first); the type is that of its source. */
export async function loadEntry(): Promise<PluginEntry> {
  return (await import(pathToFileURL(ENTRY_PATH).href)) as PluginEntry;
}

/** Limits raised so that benchmarks measure queueing, not the rate limit or the pending cap. */
export const BENCH_LIMITS = { burst: 1_000_000, perMinute: 1_000_000, maxPending: 1_000_000 };

/** A host for one relay `acme` at `url`, trusting the relay's self-signed certificate. */
export function makeHost(
  dataDir: string,
  relay: { url: string; ca: string },
  retry: { initialDelayMs: number; maxDelayMs: number; maxAgeHours: number } = {
    initialDelayMs: 1000,
    maxDelayMs: 3_600_000,
    maxAgeHours: 72,
  },
): Entry.LimeHost {
  return {
    dataDir,
    app: { version: '1.6.0', platform: 'linux', locale: 'en' },
    config: {
      relays: { acme: { callbackUrl: relay.url } },
      retry,
      network: { allowPrivateAddresses: true, extraCaCertificates: [relay.ca], timeoutMs: 5000 },
    },
  };
}

/** A confirmed outcome with realistic field sizes; `index` makes its flow id unique. */
export function makeOutcome(index: number, label = 'bench'): Entry.ConnectOutcome {
  return {
    relay: 'acme',
    key: 'sk-live-0123456789abcdefghijklmnopqrstuvwxyz',
    name: 'Work key',
    ref: 'spring-launch',
    flowId: `${label}-${index}`,
  };
}

/** Resolves after every pending event was delivered and no attempt is in flight. */
export async function waitForDrain(
  plugin: Awaited<ReturnType<PluginEntry['activate']>>,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;

  for (;;) {
    const status = plugin.runtime?.status();

    if (status !== undefined && status.pending === 0 && status.inFlight === 0) {
      return;
    }

    if (performance.now() > deadline) {
      throw new Error(`outbox not drained within ${timeoutMs} ms: ${JSON.stringify(status)}`);
    }

    await new Promise((resolve) => setImmediate(resolve));
  }
}
