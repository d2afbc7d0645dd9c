// Queues `count` outcomes at once to a live relay and times them until every one is delivered.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readInput, reportResult } from '../child-process.js';
import { BENCH_LIMITS, loadEntry, makeHost, makeOutcome } from '../plugin-host.js';

interface Input {
  relay: { url: string; ca: string };
  count: number;
  label: string;
}

const input = readInput<Input>();
const entry = await loadEntry();
const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'bench-burst-'));
const plugin = await entry.activate(makeHost(dataDir, input.relay), { limits: BENCH_LIMITS });
const runtime = plugin.runtime;

if (runtime === undefined) {
  throw new Error('activation failed');
}

const deliveredIds = new Set<string>();
let finished: () => void = () => undefined;
const allDelivered = new Promise<void>((resolve) => (finished = resolve));

// Counts deliveries as the journal records them. A compaction reports every event again, so
// ids are counted once.
runtime.subscribe(({ eventIds }) => {
  for (const id of eventIds) {
    if (runtime.outbox.get(id)?.state === 'delivered') {
      deliveredIds.add(id);
    }
  }

  if (deliveredIds.size >= input.count) {
    finished();
  }
});

const started = performance.now();
const results = await Promise.all(
  Array.from({ length: input.count }, (_, index) =>
    plugin.hooks['connect:confirmed'](makeOutcome(index, input.label)),
  ),
);
const queuedMs = performance.now() - started;

if (results.some((result) => !result.queued)) {
  throw new Error(`outcome not queued: ${JSON.stringify(results.find((r) => !r.queued))}`);
}

await allDelivered;
const elapsedMs = performance.now() - started;
await plugin.deactivate();
await fs.rm(dataDir, { recursive: true, force: true });
reportResult({ elapsedMs, queuedMs, delivered: deliveredIds.size });
