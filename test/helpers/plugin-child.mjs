// A Lime stand-in that runs the built plugin in its own process, for the crash and two-process
// harnesses. Configured by the PLUGIN_CHILD environment variable (JSON):
//   { dataDir, url, ca, key, mode: 'queue' | 'count' | 'drain', count?, workers?, pauseMs? }
// Lines on stdout, each written synchronously and only after the step it reports finished:
//   ready <events> <pending>      activation finished and the outbox loaded
//   unavailable <message>         activation failed
//   accepted <eventId>            a hook resolved { queued: true }
//   rejected <reason>             a hook resolved { queued: false }
//   queued-all                    mode 'count' queued its `count` outcomes
//   drained <json state counts>   mode 'drain' found no pending event
// Log lines go to stderr as JSON. SIGTERM deactivates the plugin and exits 0.
import { writeSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const options = JSON.parse(process.env.PLUGIN_CHILD ?? '{}');
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { activate } = await import(pathToFileURL(path.join(root, 'dist/plugin/index.js')).href);

const say = (line) => writeSync(1, `${line}\n`);
const log =
  (level) =>
  (...args) =>
    writeSync(2, `${JSON.stringify({ level, args })}\n`);

const plugin = await activate(
  {
    dataDir: options.dataDir,
    app: { version: '1.6.0', platform: 'linux' },
    config: {
      relays: { acme: { callbackUrl: options.url } },
      retry: { initialDelayMs: 100, maxDelayMs: 1000, maxAgeHours: 72 },
      network: { allowPrivateAddresses: true, extraCaCertificates: [options.ca], timeoutMs: 2000 },
    },
    log: { debug: () => {}, info: log('info'), warn: log('warn'), error: log('error') },
  },
  { limits: { burst: 1_000_000, perMinute: 1_000_000, maxPending: 1_000_000 } },
);

if (plugin.runtime === undefined) {
  const result = await plugin.hooks['connect:confirmed']({ relay: 'acme', key: options.key });
  say(`unavailable ${result.message}`);
  process.exit(3);
}

const runtime = plugin.runtime;
say(`ready ${runtime.outbox.size} ${runtime.outbox.pendingCount}`);

let stopping = false;
process.on('SIGTERM', () => {
  stopping = true;
  void plugin.deactivate().then(() => process.exit(0));
});

async function queueOne(index) {
  const hook = ['connect:confirmed', 'connect:cancelled', 'connect:failed'][index % 3];
  const result = await plugin.hooks[hook]({
    relay: 'acme',
    key: options.key,
    ref: `campaign-${index % 7}`,
    flowId: randomUUID(),
    error: { code: 'STORE_FAILED', message: 'the key store is locked' },
  });
  say(result.queued ? `accepted ${result.eventId}` : `rejected ${result.reason}`);
}

if (options.mode === 'queue') {
  // Queues without end until killed; several workers so that appends overlap.
  let index = 0;
  const worker = async () => {
    while (!stopping) {
      await queueOne(index++);
      await new Promise((resolve) => setTimeout(resolve, options.pauseMs ?? 0));
    }
  };
  await Promise.all(Array.from({ length: options.workers ?? 3 }, worker));
}

if (options.mode === 'count') {
  await Promise.all(Array.from({ length: options.count }, (_, index) => queueOne(index)));
  say('queued-all');
  // Stays alive, delivering, until the parent sends SIGTERM.
  setInterval(() => {}, 60_000);
}

if (options.mode === 'drain') {
  const timer = setInterval(() => {
    if (runtime.outbox.pendingCount > 0) {
      return;
    }

    clearInterval(timer);
    const states = {};

    for (const event of runtime.outbox.events()) {
      states[event.state] = (states[event.state] ?? 0) + 1;
    }

    say(`drained ${JSON.stringify(states)}`);
    void plugin.deactivate().then(() => process.exit(0));
  }, 50);
}
