// Resident memory of a process whose outbox contains pending events. `prepare` queues them while
// the relay is down; `measure` activates on a folder and reports memory once settled, so that
// the cost of the backlog is the difference between a folder with it and an empty one.
import { readInput, reportResult } from '../child-process.js';
import { BENCH_LIMITS, loadEntry, makeHost, makeOutcome } from '../plugin-host.js';

interface Input {
  mode: 'prepare' | 'measure';
  dataDir: string;
  downUrl: string;
  ca: string;
  events: number;
}

const input = readInput<Input>();
const collect = (globalThis as { gc?: () => void }).gc;

if (collect === undefined) {
  throw new Error('run with --expose-gc');
}

const entry = await loadEntry();
const host = makeHost(input.dataDir, { url: input.downUrl, ca: input.ca });
const plugin = await entry.activate(host, { limits: BENCH_LIMITS });

if (input.mode === 'prepare') {
  for (let start = 0; start < input.events; start += 500) {
    await Promise.all(
      Array.from({ length: Math.min(500, input.events - start) }, (_, index) =>
        plugin.hooks['connect:confirmed'](makeOutcome(start + index, 'memory')),
      ),
    );
  }
} else {
  // Full collections with 10 s of idle time between them. Reading the journal grows V8's young
  // generation to its maximum; V8's memory reducer shrinks it back after a few idle seconds,
  // and what stays then is what the backlog costs.
  for (let pass = 0; pass < 10; pass += 1) {
    collect();
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

const usage = process.memoryUsage();
const pending = plugin.runtime?.outbox.pendingCount ?? 0;
await plugin.deactivate();
reportResult({ pending, rss: usage.rss, heapUsed: usage.heapUsed });
