// Runs every benchmark in sequence, prints a table, and writes bench/results.json. With
// --write-page it also rewrites the generated sections of BENCHMARKS.md; --only=a,b runs the
// named groups (enqueue, burst, recovery, activation, idle, memory, fraction).
import { promises as fs } from 'node:fs';
import path from 'node:path';
import prettier from 'prettier';
import { benchActivation } from './activation.bench.js';
import { benchBurst } from './burst.bench.js';
import { simulateDeliveryFractions, type FractionRow } from './delivery-fraction.js';
import { benchEnqueue } from './enqueue.bench.js';
import { benchIdleHandles } from './idle-handles.bench.js';
import { describeMachine } from './machine.js';
import { benchPendingMemory } from './memory.bench.js';
import { benchRecovery } from './recovery.bench.js';
import {
  fractionChart,
  fractionTable,
  machineList,
  replaceSection,
  resultsTable,
} from './report.js';
import { writeResults, type Measurement } from './results.js';

const root = path.resolve(import.meta.dirname, '..');
const GROUPS: Record<string, () => Promise<Measurement[]>> = {
  enqueue: () => benchEnqueue({ samples: 2000 }),
  burst: () => benchBurst({ count: 5000, rounds: 3 }),
  recovery: () => benchRecovery({ rounds: 5 }),
  activation: () => benchActivation({ runs: 21 }),
  idle: () => benchIdleHandles(),
  memory: () => benchPendingMemory({ runs: 3 }),
};

/** Writes a generated file formatted as `npm run format` would leave it. */
async function writeFormatted(file: string, text: string): Promise<void> {
  const options = await prettier.resolveConfig(file);
  await fs.writeFile(file, await prettier.format(text, { ...options, filepath: file }));
}

const args = process.argv.slice(2);
const only = args
  .find((arg) => arg.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',');
const writePage = args.includes('--write-page');
const selected = (group: string) => only === undefined || only.includes(group);
const measurements: Measurement[] = [];
const started = performance.now();
let failed = false;

for (const [group, run] of Object.entries(GROUPS)) {
  if (!selected(group)) {
    continue;
  }

  process.stdout.write(`running ${group} ...\n`);

  try {
    measurements.push(...(await run()));
  } catch (error) {
    failed = true;
    process.stderr.write(`benchmark ${group} failed: ${String(error)}\n`);
  }
}

let fractions: FractionRow[] | undefined;

if (selected('fraction')) {
  process.stdout.write('running fraction ...\n');
  fractions = await simulateDeliveryFractions();
  await writeFormatted(
    path.join(root, 'bench', 'delivery-fraction.json'),
    JSON.stringify(fractions, null, 2),
  );
  await fs.writeFile(path.join(root, 'bench', 'delivery-fraction.svg'), fractionChart(fractions));
}

const resultsPath = path.join(root, 'bench', 'results.json');
const rows = await writeResults(resultsPath, measurements);
await writeFormatted(resultsPath, await fs.readFile(resultsPath, 'utf8'));
const machine = describeMachine();
const table = resultsTable(rows, measurements);
const seconds = ((performance.now() - started) / 1000).toFixed(0);
process.stdout.write(`\n${table}\n\n`);

if (fractions !== undefined) {
  process.stdout.write(`${fractionTable(fractions)}\n\n`);
}

process.stdout.write(`${machineList(machine)}\n\nwrote bench/results.json in ${seconds} s\n`);

if (writePage) {
  const pagePath = path.join(root, 'BENCHMARKS.md');
  let page = await fs.readFile(pagePath, 'utf8');
  const date = new Date().toISOString().slice(0, 10);
  page = replaceSection(
    page,
    'bench:machine',
    `Run of ${date}, ${seconds} s:\n\n${machineList(machine)}`,
  );
  page = replaceSection(page, 'bench:results', table);

  if (fractions !== undefined) {
    page = replaceSection(page, 'bench:fraction', fractionTable(fractions));
  }

  await writeFormatted(pagePath, page);
  process.stdout.write('rewrote the generated sections of BENCHMARKS.md\n');
}

// Exit status: 1 when a benchmark crashed or missed its target, so a script can tell.
process.exitCode = failed || rows.some((row) => !row.pass) ? 1 : 0;
