import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultRelay, type FaultRelay, type RelayFault } from '../helpers/fault-relay.js';
import { FULL_API_KEY, findSecret, makeDataDir } from '../helpers/plugin-harness.js';
import {
  builtEntryExists,
  BUILT_ENTRY,
  seededRandom,
  startPluginProcess,
  type PluginProcess,
} from '../helpers/plugin-process.js';

/** Kills per run, set by CRASH_KILLS. CRASH_SEED repeats the kill times of a run. */
const KILLS = Number(process.env.CRASH_KILLS ?? 200);
const SEED = Number(process.env.CRASH_SEED ?? Date.now() % 1_000_000);
/** A kill lands uniformly in this window after the spawn: activation, loading and queueing. */
const KILL_WINDOW_MS = 600;

const RELAY_MODES: RelayFault[] = [
  { kind: 'ok' },
  { kind: 'status', status: 503 },
  { kind: 'slow', delayMs: 300 },
];

let relay: FaultRelay;
let dataDir: string;

beforeAll(async () => {
  if (!builtEntryExists()) {
    throw new Error(`${BUILT_ENTRY} is missing: run "npm run build" (npm test builds it first)`);
  }

  relay = await startFaultRelay();
  dataDir = await makeDataDir('crash-safety');
});

afterAll(async () => {
  await relay.close();
  await fs.rm(dataDir, { recursive: true, force: true });
});

describe('crash safety', () => {
  it(
    `loses no accepted event over ${KILLS} kill -9`,
    async () => {
      const random = seededRandom(SEED);
      const accepted = new Set<string>();
      const outputs: Record<string, string> = {};
      let loaded = 0;
      let unavailable = 0;
      let killedBeforeReady = 0;
      const started = Date.now();

      for (let run = 0; run < KILLS; run += 1) {
        await relay.setFault(RELAY_MODES[run % RELAY_MODES.length]!);
        const child = startPluginProcess({
          dataDir,
          url: relay.url,
          ca: relay.ca,
          key: FULL_API_KEY,
          mode: 'queue',
          workers: 2,
          pauseMs: 20,
        });
        await new Promise((resolve) => setTimeout(resolve, random() * KILL_WINDOW_MS));
        child.child.kill('SIGKILL');
        await child.exited;
        collect(child, accepted);
        outputs[`child ${run} output`] = child.lines.join('\n') + child.stderr();

        if (child.lines.some((line) => line.startsWith('ready'))) {
          loaded += 1;
        } else if (child.lines.some((line) => line.startsWith('unavailable'))) {
          unavailable += 1;
        } else {
          killedBeforeReady += 1;
        }
      }

      const killPhase = Date.now() - started;
      await relay.setFault({ kind: 'ok' });
      const drain = startPluginProcess({
        dataDir,
        url: relay.url,
        ca: relay.ca,
        key: FULL_API_KEY,
        mode: 'drain',
      });
      const drained = await drain.waitForLine('drained', 120_000);
      await drain.exited;
      outputs['drain output'] = drain.lines.join('\n') + drain.stderr();

      const deliveries = new Map<string, number>();

      for (const id of relay.deliveredIds()) {
        deliveries.set(id, (deliveries.get(id) ?? 0) + 1);
      }

      const lost = [...accepted].filter((id) => !deliveries.has(id));
      const redelivered = [...deliveries.values()].filter((count) => count > 1).length;
      const tornWarnings = Object.values(outputs)
        .join('\n')
        .split('\n')
        .filter((line) => line.includes('unreadable')).length;
      const states = JSON.parse(drained.slice('drained '.length)) as Record<string, number>;
      const journal = await fs.readFile(path.join(dataDir, 'outbox', 'journal.log'), 'utf8');
      const compacted = journal.trimStart().startsWith('{"type":"marks"');
      const records = journal.split('\n').filter((line) => line.length > 0).length;

      console.log(
        `crash safety (seed ${SEED}): ${KILLS} kills in ${killPhase} ms; outbox loaded ` +
          `${loaded} times, unavailable ${unavailable}, killed before loading ${killedBeforeReady}; ` +
          `${accepted.size} accepted, ${lost.length} lost; ${deliveries.size} event ids delivered, ` +
          `${redelivered} of them more than once; ${tornWarnings} log lines about unreadable ` +
          `records; final states ${JSON.stringify(states)}; journal has ${records} records ` +
          `and was ${compacted ? '' : 'never '}compacted`,
      );

      expect(accepted.size).toBeGreaterThan(KILLS);
      expect(unavailable).toBe(0);
      expect(lost).toEqual([]);
      expect(Object.keys(states).filter((state) => state !== 'delivered')).toEqual([]);

      // A duplicate is always a redelivery of one event: same webhook-id, same body bytes.
      const bodies = new Map<string, string>();

      for (const request of relay.requests.filter((candidate) => candidate.delivered)) {
        const id = String(request.headers['webhook-id']);
        const body = JSON.parse(request.body) as { event_id: string };
        expect(body.event_id).toBe(id);
        expect(bodies.get(id) ?? request.body).toBe(request.body);
        bodies.set(id, request.body);
      }

      expect(await findSecret(FULL_API_KEY, dataDir, outputs)).toEqual([]);
    },
    Math.max(300_000, KILLS * 2000),
  );
});

function collect(child: PluginProcess, accepted: Set<string>): void {
  for (const line of child.lines) {
    if (line.startsWith('accepted ')) {
      accepted.add(line.slice('accepted '.length));
    }
  }
}
