import { runChild } from './child-process.js';
import { fmt } from './enqueue.bench.js';
import type { Measurement } from './results.js';
import { summarize } from './stats.js';

interface RecoveryOutput {
  rounds: { waitMs: number; drainMs: number; failedAttempts: number }[];
}

export async function benchRecovery(options: { rounds: number }): Promise<Measurement[]> {
  const output = await runChild<RecoveryOutput>('recovery.ts', {
    events: 200,
    outageMs: 3000,
    rounds: options.rounds,
  });
  const wait = summarize(output.rounds.map((round) => round.waitMs));
  const drain = summarize(output.rounds.map((round) => round.drainMs));
  const failed = output.rounds.map((round) => round.failedAttempts).join(', ');
  return [
    {
      name: 'recovery_drain_ms',
      value: drain.median,
      detail: `median of ${drain.count} outages [${fmt(drain.min)}..${fmt(drain.max)}] ms`,
    },
    {
      name: 'recovery_wait_ms',
      value: wait.median,
      detail:
        `median of ${wait.count} [${fmt(wait.min)}..${fmt(wait.max)}] ms; refused attempts ` +
        `during each 3 s outage: ${failed}`,
    },
  ];
}
