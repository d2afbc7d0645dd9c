// A relay outage with 200 events pending: the relay comes back on the same port, the host
// announces the network's return with wake('network online'), and the relay times the first
// and the last delivery. Relay and plugin share this process so both use one clock.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { preciseNow, startBenchRelay } from '../bench-relay.js';
import { readInput, reportResult } from '../child-process.js';
import { BENCH_LIMITS, loadEntry, makeHost, makeOutcome } from '../plugin-host.js';

interface Input {
  events: number;
  outageMs: number;
  rounds: number;
}

const input = readInput<Input>();
const entry = await loadEntry();
const relay = await startBenchRelay();
const rounds: { waitMs: number; drainMs: number; failedAttempts: number }[] = [];

for (let round = 0; round < input.rounds; round += 1) {
  await relay.stop();
  relay.reset();
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'bench-recovery-'));
  const plugin = await entry.activate(makeHost(dataDir, relay), { limits: BENCH_LIMITS });
  const results = await Promise.all(
    Array.from({ length: input.events }, (_, index) =>
      plugin.hooks['connect:confirmed'](makeOutcome(index, `recovery${round}`)),
    ),
  );

  if (results.some((result) => !result.queued)) {
    throw new Error('an outcome was not queued during the outage');
  }

  // The outage: the first attempt and the probes after it are refused.
  await new Promise((resolve) => setTimeout(resolve, input.outageMs));
  let failedAttempts = 0;

  for (const event of plugin.runtime?.outbox.events() ?? []) {
    failedAttempts += event.failures;
  }

  await relay.start();
  const backAt = preciseNow();
  plugin.wake('network online');

  while (relay.delivered < input.events) {
    await new Promise((resolve) => setTimeout(resolve, 2));
  }

  const [first, last] = [relay.deliveredAt[0]!, relay.deliveredAt[input.events - 1]!];
  rounds.push({ waitMs: first - backAt, drainMs: last - first, failedAttempts });
  await plugin.deactivate();
  await fs.rm(dataDir, { recursive: true, force: true });
}

await relay.stop();
reportResult({ rounds });
