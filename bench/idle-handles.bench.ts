import { startBenchRelay } from './bench-relay.js';
import { runChild } from './child-process.js';
import type { Measurement } from './results.js';

interface IdleOutput {
  liveHandles: string[];
  grown: string[];
  signals: number;
  deliveredCount: number;
}

export async function benchIdleHandles(): Promise<Measurement[]> {
  const relay = await startBenchRelay();

  try {
    const events = 20;
    const output = await runChild<IdleOutput>(
      'idle-handles.ts',
      {
        relay: { url: relay.url, ca: relay.ca },
        events,
      },
      { nodeArgs: ['--expose-gc'] },
    );

    if (output.deliveredCount !== events) {
      throw new Error(`idle-handles: ${output.deliveredCount} of ${events} events delivered`);
    }

    const list = (names: string[]) => (names.length === 0 ? 'none' : names.join(', '));
    return [
      {
        name: 'idle_handles',
        value: Math.max(output.liveHandles.length, output.grown.length),
        detail:
          `after delivering ${events} events: async_hooks live ${list(output.liveHandles)}; ` +
          `getActiveResourcesInfo growth ${list(output.grown)}; not counted: ` +
          `${output.signals} process signal listeners added once by conf (atomically/when-exit)`,
      },
    ];
  } finally {
    await relay.stop();
  }
}
