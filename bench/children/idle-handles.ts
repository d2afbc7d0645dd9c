// Counts the timers, sockets and watchers the plugin still holds once it has delivered
// everything: resources created after activation began and not yet destroyed (async_hooks),
// and the growth of process.getActiveResourcesInfo() over a baseline taken before activation.
import { createHook } from 'node:async_hooks';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readInput, reportResult } from '../child-process.js';
import { BENCH_LIMITS, loadEntry, makeHost, makeOutcome, waitForDrain } from '../plugin-host.js';

interface Input {
  relay: { url: string; ca: string };
  events: number;
}

/** async_hooks resource types of timers, sockets and file watchers. */
const HANDLE_TYPES = new Set([
  'Timeout',
  'Immediate',
  'TCPWRAP',
  'TLSWRAP',
  'PIPEWRAP',
  'UDPWRAP',
  'FSEVENTWRAP',
  'STATWATCHER',
  'PROCESSWRAP',
]);

/**
 * Process signal listeners are reported apart: conf writes settings through `atomically`,
 * whose `when-exit` dependency adds one unreferenced listener per exit signal, once per
 * process, to delete temporary files on exit.
 */
const SIGNAL_TYPE = 'SIGNALWRAP';

const input = readInput<Input>();
const entry = await loadEntry();
const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'bench-idle-'));
const live = new Map<number, string>();
let tracking = false;

createHook({
  init(asyncId, type) {
    if (tracking && (HANDLE_TYPES.has(type) || type === SIGNAL_TYPE)) {
      live.set(asyncId, type);
    }
  },
  destroy(asyncId) {
    live.delete(asyncId);
  },
}).enable();

const countByType = (names: string[]): Map<string, number> => {
  const counts = new Map<string, number>();

  for (const name of names) {
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }

  return counts;
};

const baseline = countByType(process.getActiveResourcesInfo());
tracking = true;
const plugin = await entry.activate(makeHost(dataDir, input.relay), { limits: BENCH_LIMITS });

for (let index = 0; index < input.events; index += 1) {
  const result = await plugin.hooks['connect:confirmed'](makeOutcome(index, 'idle'));

  if (!result.queued) {
    throw new Error(`outcome not queued: ${JSON.stringify(result)}`);
  }
}

await waitForDrain(plugin);
tracking = false;
const deliveredCount = [...(plugin.runtime?.outbox.events() ?? [])].filter(
  (event) => event.state === 'delivered',
).length;
// Closed sockets are destroyed on a later turn of the event loop, and the destroy hook of a
// TLS wrapper runs once it is collected.
for (let pass = 0; pass < 3; pass += 1) {
  await new Promise((resolve) => setTimeout(resolve, 100));
  (globalThis as { gc?: () => void }).gc?.();
}

const after = countByType(process.getActiveResourcesInfo());
const grown: string[] = [];

for (const [name, count] of after) {
  for (let extra = count - (baseline.get(name) ?? 0); extra > 0; extra -= 1) {
    grown.push(name);
  }
}

const liveHandles = [...live.values()].filter((type) => type !== SIGNAL_TYPE);
const signals = [...live.values()].filter((type) => type === SIGNAL_TYPE).length;
const status = plugin.runtime?.status();
await plugin.deactivate();
await fs.rm(dataDir, { recursive: true, force: true });
reportResult({ liveHandles, grown, signals, deliveredCount, status });
