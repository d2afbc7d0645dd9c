import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeCertificate } from '../test/helpers/https-relay.js';
import { runChild } from './child-process.js';
import { closedPort, fmt } from './enqueue.bench.js';
import type { Measurement } from './results.js';
import { summarize } from './stats.js';

interface MemoryOutput {
  pending: number;
  rss: number;
  heapUsed: number;
}

/** Megabytes, as in the target (10^6 bytes). */
const MB = 1_000_000;

/**
 * Compares fresh processes activated on an outbox with 10,000 pending events (as after an
 * outage and a restart) and on an empty one, each after 10 s of idle time.
 */
export async function benchPendingMemory(options: { runs: number }): Promise<Measurement[]> {
  const events = 10_000;
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'bench-memory-'));
  const common = {
    downUrl: `https://127.0.0.1:${await closedPort()}/hook`,
    ca: (await makeCertificate()).cert,
    events,
  };
  const run = (mode: 'prepare' | 'measure', dataDir: string) =>
    runChild<MemoryOutput>(
      'pending-memory.ts',
      { ...common, mode, dataDir },
      { nodeArgs: ['--expose-gc'] },
    );
  const rssGrowth: number[] = [];
  const heapGrowth: number[] = [];
  let empty: MemoryOutput | undefined;

  try {
    const full = path.join(root, 'full');
    await run('prepare', full);

    for (let index = 0; index < options.runs; index += 1) {
      // The two processes mostly wait for V8 to settle, so they run side by side.
      const [emptyRun, loaded] = await Promise.all([
        run('measure', path.join(root, `empty${index}`)),
        run('measure', full),
      ]);
      empty = emptyRun;

      if (loaded.pending < events || empty.pending !== 0) {
        throw new Error(`pending-memory: ${loaded.pending} and ${empty.pending} pending`);
      }

      rssGrowth.push((loaded.rss - empty.rss) / MB);
      heapGrowth.push((loaded.heapUsed - empty.heapUsed) / MB);
    }
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }

  const rss = summarize(rssGrowth);
  const heap = summarize(heapGrowth);
  return [
    {
      name: 'pending10k_rss_mb',
      value: rss.median,
      floor: (empty?.rss ?? Number.NaN) / MB,
      detail:
        `RSS +${fmt(rss.median)} MB [${fmt(rss.min)}..${fmt(rss.max)}], heap used ` +
        `+${fmt(heap.median)} MB, over ${fmt((empty?.rss ?? 0) / MB)} MB with an empty ` +
        `outbox; ${options.runs} pairs of processes`,
    },
  ];
}
