import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { timeProcess } from './child-process.js';
import { fmt } from './enqueue.bench.js';
import { ENTRY_PATH } from './plugin-host.js';
import type { Measurement } from './results.js';
import { summarize } from './stats.js';

// argv[1] is the entry URL and argv[2] a fresh, empty data folder. Deactivating closes the
// journal so the process exits as soon as activation is done.
const ACTIVATE_SCRIPT = [
  'const entry = await import(process.argv[1]);',
  "const plugin = await entry.activate({ dataDir: process.argv[2], app: { version: '1.6.0', platform: 'linux' } });",
  "if (plugin.runtime === undefined) throw new Error('activation failed');",
  'await plugin.deactivate();',
].join('\n');

/**
 * Times fresh processes that import the built entry and activate it, against bare Node
 * processes started the same way, in alternation; the overhead is the difference of medians.
 */
export async function benchActivation(options: { runs: number }): Promise<Measurement[]> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'bench-activation-'));
  const entryUrl = pathToFileURL(ENTRY_PATH).href;
  const bare: number[] = [];
  const plugin: number[] = [];

  try {
    for (let run = -2; run < options.runs; run += 1) {
      const dataDir = path.join(root, `run${run + 2}`);
      const bareMs = await timeProcess(['--input-type=module', '-e', '', entryUrl, dataDir]);
      const pluginMs = await timeProcess([
        '--input-type=module',
        '-e',
        ACTIVATE_SCRIPT,
        entryUrl,
        dataDir,
      ]);

      // The first two pairs warm the page cache and are not counted.
      if (run >= 0) {
        bare.push(bareMs);
        plugin.push(pluginMs);
      }
    }
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }

  const bareSummary = summarize(bare);
  const pluginSummary = summarize(plugin);
  return [
    {
      name: 'activation_overhead_ms',
      value: pluginSummary.median - bareSummary.median,
      floor: bareSummary.median,
      detail:
        `import+activate ${fmt(pluginSummary.median)} ms [${fmt(pluginSummary.min)}..` +
        `${fmt(pluginSummary.max)}], bare node ${fmt(bareSummary.median)} ms ` +
        `[${fmt(bareSummary.min)}..${fmt(bareSummary.max)}], ${options.runs} runs each`,
    },
  ];
}
