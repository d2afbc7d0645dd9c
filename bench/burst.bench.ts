import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startBenchRelay } from './bench-relay.js';
import { runChild } from './child-process.js';
import { fmt } from './enqueue.bench.js';
import type { Measurement } from './results.js';
import { summarize } from './stats.js';

interface RunOutput {
  elapsedMs: number;
  delivered: number;
}

/**
 * Alternates plugin bursts and bare got loops against one relay in this process, so both see
 * the same relay and the same machine load. Each plugin run is divided by the got run right
 * after it, and the figure is the median of those ratios. The plugin's time runs from its
 * first hook call to its last delivery, so it includes queueing the 5,000 outcomes.
 */
export async function benchBurst(options: {
  count: number;
  rounds: number;
}): Promise<Measurement[]> {
  const relay = await startBenchRelay({ keepBodies: true });
  const bodiesFile = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'bench-bodies-')), 'b.json');
  const pluginRates: number[] = [];
  const gotRates: number[] = [];
  const ratios: number[] = [];

  try {
    for (let round = 0; round < options.rounds; round += 1) {
      relay.reset();
      const plugin = await runChild<RunOutput>('burst-plugin.ts', {
        relay: { url: relay.url, ca: relay.ca },
        count: options.count,
        label: `burst${round}`,
      });
      checkCount('plugin', plugin.delivered, options.count);
      pluginRates.push(plugin.delivered / (plugin.elapsedMs / 1000));
      await fs.writeFile(bodiesFile, JSON.stringify(relay.bodies.slice(0, options.count)));
      relay.reset();

      const bare = await runChild<RunOutput>('burst-got.ts', {
        url: relay.url,
        ca: relay.ca,
        bodiesFile,
      });
      checkCount('got loop', bare.delivered, options.count);
      gotRates.push(bare.delivered / (bare.elapsedMs / 1000));
      ratios.push((pluginRates[round] as number) / (gotRates[round] as number));
    }
  } finally {
    await relay.stop();
    await fs.rm(path.dirname(bodiesFile), { recursive: true, force: true });
  }

  const plugin = summarize(pluginRates);
  const bare = summarize(gotRates);
  const ratio = summarize(ratios);
  return [
    {
      name: 'burst_throughput_ratio',
      value: ratio.median,
      floor: bare.median,
      detail:
        `median of ${ratio.count} paired rounds [${fmt(ratio.min)}..${fmt(ratio.max)}]; ` +
        `plugin ${fmt(plugin.median)}/s [${fmt(plugin.min)}..${fmt(plugin.max)}], ` +
        `got ${fmt(bare.median)}/s [${fmt(bare.min)}..${fmt(bare.max)}]; ` +
        `${options.count} events per round, one request at a time`,
    },
  ];
}

function checkCount(sender: string, delivered: number, expected: number): void {
  if (delivered !== expected) {
    throw new Error(`${sender} delivered ${delivered} of ${expected} callbacks`);
  }
}
