import { promises as fs } from 'node:fs';

/** Direction of a target: the measured value must be at most, or at least, the target. */
export type Comparison = '<=' | '>=';

export interface BenchmarkSpec {
  name: string;
  unit: string;
  target: number;
  comparison: Comparison;
  /** One line for the table and BENCHMARKS.md: what is measured. */
  description: string;
}

/** Every row of `bench/results.json`, in output order, with its target. */
export const BENCHMARKS: readonly BenchmarkSpec[] = [
  {
    name: 'enqueue_median_ratio_b0',
    unit: 'ratio',
    target: 2,
    comparison: '<=',
    description: 'hook call to durable, empty backlog, median / append+fsync floor median',
  },
  {
    name: 'enqueue_median_ratio_b1000',
    unit: 'ratio',
    target: 2,
    comparison: '<=',
    description: 'the same with 1,000 events pending (relay down)',
  },
  {
    name: 'enqueue_median_ratio_b10000',
    unit: 'ratio',
    target: 2,
    comparison: '<=',
    description: 'the same with 10,000 events pending (relay down)',
  },
  {
    name: 'enqueue_p99_growth',
    unit: 'ratio',
    target: 1.5,
    comparison: '<=',
    description: 'hook p99 at 10,000 pending / hook p99 at 0 pending',
  },
  {
    name: 'burst_throughput_ratio',
    unit: 'ratio',
    target: 0.7,
    comparison: '>=',
    description: '5,000 outcomes queued at once: delivered/s / bare got loop requests/s',
  },
  {
    name: 'recovery_drain_ms',
    unit: 'ms',
    target: 2000,
    comparison: '<=',
    description: '200 pending after an outage: relay first 2xx to last delivery',
  },
  {
    name: 'recovery_wait_ms',
    unit: 'ms',
    target: 1000,
    comparison: '<=',
    description: "relay back (with wake('network online')) to its first 2xx",
  },
  {
    name: 'activation_overhead_ms',
    unit: 'ms',
    target: 50,
    comparison: '<=',
    description: 'fresh process: import dist/plugin/index.js + activate, minus bare node, median',
  },
  {
    name: 'idle_handles',
    unit: 'count',
    target: 0,
    comparison: '<=',
    description: 'timers, sockets and watchers held once the outbox is drained',
  },
  {
    name: 'pending10k_rss_mb',
    unit: 'MB',
    target: 30,
    comparison: '<=',
    description: 'resident memory growth with 10,000 events pending',
  },
];

/** One benchmark's measured figure; `floor` is the same-run reference it is divided by, if any. */
export interface Measurement {
  name: string;
  value: number;
  floor?: number;
  /** Extra figures for the printed table (spread, sample counts); not written to results.json. */
  detail?: string;
}

/** One row of `bench/results.json`. */
export interface ResultRow {
  name: string;
  value: number;
  unit: string;
  floor: number | null;
  ratio: number | null;
  target: number;
  pass: boolean;
}

/** Checks a value against its spec's target. */
export function meetsTarget(spec: BenchmarkSpec, value: number): boolean {
  return spec.comparison === '<=' ? value <= spec.target : value >= spec.target;
}

/**
 * Builds the result rows in the order of `BENCHMARKS`. A benchmark that produced no measurement
 * is written with value NaN as null and `pass: false`, so a crashed benchmark cannot look green.
 */
export function toResultRows(measurements: readonly Measurement[]): ResultRow[] {
  const byName = new Map(measurements.map((measurement) => [measurement.name, measurement]));

  for (const measurement of measurements) {
    if (!BENCHMARKS.some((spec) => spec.name === measurement.name)) {
      throw new Error(`unknown benchmark name: ${measurement.name}`);
    }
  }

  return BENCHMARKS.map((spec) => {
    const measurement = byName.get(spec.name);
    const value = measurement?.value ?? Number.NaN;
    const floor = measurement?.floor;
    const ratio = spec.unit === 'ratio' ? value : floor === undefined ? null : value / floor;
    return {
      name: spec.name,
      value: round(value),
      unit: spec.unit,
      floor: floor === undefined ? null : round(floor),
      ratio: ratio === null ? null : round(ratio),
      target: spec.target,
      pass: Number.isFinite(value) && meetsTarget(spec, value),
    };
  });
}

/** Writes the rows as a JSON array to `file`; returns the rows written. */
export async function writeResults(
  file: string,
  measurements: readonly Measurement[],
): Promise<ResultRow[]> {
  const rows = toResultRows(measurements);
  await fs.writeFile(file, `${JSON.stringify(rows, null, 2)}\n`);
  return rows;
}

function round(value: number): number {
  return Number.isFinite(value) ? Math.round(value * 1000) / 1000 : value;
}
