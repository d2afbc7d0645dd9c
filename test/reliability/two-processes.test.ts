import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultRelay, type FaultRelay } from '../helpers/fault-relay.js';
import { findSecret, FULL_API_KEY, makeDataDir, waitFor } from '../helpers/plugin-harness.js';
import { builtEntryExists, BUILT_ENTRY, startPluginProcess } from '../helpers/plugin-process.js';

const PER_PROCESS = 100;

let relay: FaultRelay;
let dataDir: string;

beforeAll(async () => {
  if (!builtEntryExists()) {
    throw new Error(`${BUILT_ENTRY} is missing: run "npm run build" (npm test builds it first)`);
  }

  relay = await startFaultRelay();
  dataDir = await makeDataDir('two-processes');
});

afterAll(async () => {
  await relay.close();
  await fs.rm(dataDir, { recursive: true, force: true });
});

describe('two processes on one data folder', () => {
  it('delivers every event exactly once', async () => {
    // A slow relay keeps attempts in flight long enough for the two processes to overlap.
    await relay.setFault({ kind: 'slow', delayMs: 5 });
    const options = { dataDir, url: relay.url, ca: relay.ca, key: FULL_API_KEY };
    const processes = [
      startPluginProcess({ ...options, mode: 'count', count: PER_PROCESS }),
      startPluginProcess({ ...options, mode: 'count', count: PER_PROCESS }),
    ];

    try {
      await Promise.all(processes.map((child) => child.waitForLine('queued-all', 30_000)));
      const accepted = processes.flatMap((child) =>
        child.lines.filter((line) => line.startsWith('accepted ')).map((line) => line.slice(9)),
      );
      expect(accepted).toHaveLength(2 * PER_PROCESS);
      expect(new Set(accepted).size).toBe(2 * PER_PROCESS);

      await waitFor(
        () => new Set(relay.deliveredIds()).size >= 2 * PER_PROCESS,
        'delivery of 200 events',
        60_000,
      );
      // Give a second sender, if the claims let one through, time to repeat an event.
      await new Promise((resolve) => setTimeout(resolve, 500));

      const counts = new Map<string, number>();

      for (const id of relay.deliveredIds()) {
        counts.set(id, (counts.get(id) ?? 0) + 1);
      }

      const repeated = [...counts].filter(([, count]) => count > 1);
      console.log(
        `two processes: ${accepted.length} accepted, ${counts.size} delivered, ` +
          `${repeated.length} delivered more than once, ${relay.requests.length} requests`,
      );
      expect(accepted.filter((id) => !counts.has(id))).toEqual([]);
      expect(repeated).toEqual([]);
      expect(processes.every((child) => child.child.exitCode === null)).toBe(true);
    } finally {
      for (const child of processes) {
        child.child.kill('SIGTERM');
      }

      await Promise.all(processes.map((child) => child.exited));
    }

    // Claims by both owners on one event show that the two processes did compete for it.
    const claimOwners = new Map<string, Set<string>>();
    const journal = await fs.readFile(path.join(dataDir, 'outbox', 'journal.log'), 'utf8');

    for (const line of journal.split('\n')) {
      if (line.startsWith('{"type":"claim"')) {
        const claim = JSON.parse(line) as { id: string; owner: string };
        claimOwners.set(claim.id, (claimOwners.get(claim.id) ?? new Set()).add(claim.owner));
      }
    }

    const contested = [...claimOwners.values()].filter((owners) => owners.size > 1).length;
    console.log(`two processes: ${contested} events were claimed by both processes`);

    const outputs = Object.fromEntries(
      processes.map((child, index) => [
        `process ${index}`,
        child.lines.join('\n') + child.stderr(),
      ]),
    );
    expect(await findSecret(FULL_API_KEY, dataDir, outputs)).toEqual([]);
  });

  it('delivers every event after one process is killed', async () => {
    const killDir = await makeDataDir('two-processes-kill');
    relay.requests.length = 0;
    await relay.setFault({ kind: 'slow', delayMs: 20 });
    const options = { dataDir: killDir, url: relay.url, ca: relay.ca, key: FULL_API_KEY };
    const survivor = startPluginProcess({ ...options, mode: 'count', count: PER_PROCESS });
    const victim = startPluginProcess({ ...options, mode: 'count', count: PER_PROCESS });
    const started = Date.now();

    try {
      await Promise.all([survivor, victim].map((child) => child.waitForLine('queued-all', 30_000)));
      victim.child.kill('SIGKILL');
      await victim.exited;
      const killedAt = Date.now();
      const accepted = [survivor, victim].flatMap((child) =>
        child.lines.filter((line) => line.startsWith('accepted ')).map((line) => line.slice(9)),
      );
      expect(accepted).toHaveLength(2 * PER_PROCESS);

      await waitFor(
        () => accepted.every((id) => relay.deliveredIds().includes(id)),
        'delivery of every accepted event by the surviving process',
        60_000,
      );
      // Well under the claim lease (timeoutMs + 30 s): a dead process's claim is void at once.
      expect(Date.now() - killedAt).toBeLessThan(20_000);
      console.log(
        `two processes, one killed ${killedAt - started} ms after the start: the survivor ` +
          `delivered the rest ${Date.now() - killedAt} ms after the kill`,
      );
    } finally {
      survivor.child.kill('SIGTERM');
      victim.child.kill('SIGKILL');
      await Promise.all([survivor.exited, victim.exited]);
      await fs.rm(killDir, { recursive: true, force: true });
    }
  }, 90_000);
});
