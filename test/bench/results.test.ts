import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BENCHMARKS, writeResults, type Measurement } from '../../bench/results.js';

const EXPECTED_NAMES = [
  'enqueue_median_ratio_b0',
  'enqueue_median_ratio_b1000',
  'enqueue_median_ratio_b10000',
  'enqueue_p99_growth',
  'burst_throughput_ratio',
  'recovery_drain_ms',
  'recovery_wait_ms',
  'activation_overhead_ms',
  'idle_handles',
  'pending10k_rss_mb',
];

let folder: string | undefined;

afterEach(async () => {
  if (folder !== undefined) {
    await fs.rm(folder, { recursive: true, force: true });
  }
});

async function writeAndRead(measurements: Measurement[]): Promise<Record<string, unknown>[]> {
  folder = await fs.mkdtemp(path.join(os.tmpdir(), 'bench-results-'));
  const file = path.join(folder, 'results.json');
  await writeResults(file, measurements);
  return JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, unknown>[];
}

describe('writeResults', () => {
  it('writes every benchmark name in order', async () => {
    const rows = await writeAndRead([]);

    expect(rows.map((row) => row.name)).toEqual(EXPECTED_NAMES);
    expect(BENCHMARKS.map((spec) => spec.name)).toEqual(EXPECTED_NAMES);
  });

  it('writes exactly the seven fields', async () => {
    const rows = await writeAndRead([{ name: 'idle_handles', value: 0 }]);

    for (const row of rows) {
      expect(Object.keys(row).sort()).toEqual(
        ['floor', 'name', 'pass', 'ratio', 'target', 'unit', 'value'].sort(),
      );
    }
  });

  it('fills a ratio row from a fake measurement', async () => {
    const rows = await writeAndRead([
      { name: 'enqueue_median_ratio_b0', value: 1.25, floor: 0.3, detail: 'not written' },
    ]);

    expect(rows[0]).toEqual({
      name: 'enqueue_median_ratio_b0',
      value: 1.25,
      unit: 'ratio',
      floor: 0.3,
      ratio: 1.25,
      target: 2,
      pass: true,
    });
  });

  it('divides a non-ratio value by its floor', async () => {
    const rows = await writeAndRead([{ name: 'activation_overhead_ms', value: 30, floor: 60 }]);
    const row = rows.find((candidate) => candidate.name === 'activation_overhead_ms');

    expect(row).toEqual({
      name: 'activation_overhead_ms',
      value: 30,
      unit: 'ms',
      floor: 60,
      ratio: 0.5,
      target: 50,
      pass: true,
    });
  });

  it('compares at-least targets upward', async () => {
    const rows = await writeAndRead([
      { name: 'burst_throughput_ratio', value: 0.69, floor: 1500 },
      { name: 'recovery_wait_ms', value: 1000.5 },
    ]);

    expect(rows.find((row) => row.name === 'burst_throughput_ratio')?.pass).toBe(false);
    expect(rows.find((row) => row.name === 'recovery_wait_ms')?.pass).toBe(false);
  });

  it('marks a missing benchmark as failed with null values', async () => {
    const rows = await writeAndRead([]);
    const row = rows.find((candidate) => candidate.name === 'pending10k_rss_mb');

    expect(row?.value).toBeNull();
    expect(row?.floor).toBeNull();
    expect(row?.ratio).toBeNull();
    expect(row?.pass).toBe(false);
  });

  it('rejects an unknown benchmark name', async () => {
    await expect(writeAndRead([{ name: 'enqueue_mean', value: 1 }])).rejects.toThrow(
      'unknown benchmark name: enqueue_mean',
    );
  });
});
