import net from 'node:net';
import { startBenchRelay } from './bench-relay.js';
import { runChild } from './child-process.js';
import type { Measurement } from './results.js';
import { summarize } from './stats.js';

interface EnqueueOutput {
  recordBytes: number;
  subjects: { backlog: number; pendingAtEnd: number; floor: number[]; hook: number[] }[];
}

/** Returns a loopback port where nothing listens, so connections to it are refused. */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return address.port;
}

export async function benchEnqueue(options: { samples: number }): Promise<Measurement[]> {
  const relay = await startBenchRelay();

  try {
    const output = await runChild<EnqueueOutput>('enqueue.ts', {
      relay: { url: relay.url, ca: relay.ca },
      downUrl: `https://127.0.0.1:${await closedPort()}/hook`,
      backlogs: [0, 1000, 10_000],
      samples: options.samples,
      warmup: 100,
    });
    const measurements: Measurement[] = [];
    const p99 = new Map<number, number>();

    for (const subject of output.subjects) {
      const floor = summarize(subject.floor);
      const hook = summarize(subject.hook);
      p99.set(subject.backlog, hook.p99);
      measurements.push({
        name: `enqueue_median_ratio_b${subject.backlog}`,
        value: hook.median / floor.median,
        floor: floor.median,
        detail:
          `hook ${fmt(hook.median)} ms [${fmt(hook.min)}..${fmt(hook.max)}] p99 ${fmt(hook.p99)}; ` +
          `floor ${fmt(floor.median)} ms [${fmt(floor.min)}..${fmt(floor.max)}] p99 ` +
          `${fmt(floor.p99)}; n=${hook.count}, ${output.recordBytes} B, ` +
          `${subject.pendingAtEnd} pending at end`,
      });
    }

    const p99Empty = p99.get(0) ?? Number.NaN;
    const p99Full = p99.get(10_000) ?? Number.NaN;
    measurements.push({
      name: 'enqueue_p99_growth',
      value: p99Full / p99Empty,
      floor: p99Empty,
      detail: `hook p99 ${fmt(p99Full)} ms at 10,000 pending, ${fmt(p99Empty)} ms at 0`,
    });
    return measurements;
  } finally {
    await relay.stop();
  }
}

export function fmt(value: number): string {
  return value >= 100 ? value.toFixed(0) : value.toPrecision(3);
}
