// Hook latency against the disk floor, with 0, 1,000 and 10,000 events pending. The three
// plugins run in this one process and are sampled in turn, each right after a floor sample
// in its own folder, so that machine noise hits every figure alike.
import { constants, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readInput, reportResult } from '../child-process.js';
import { BENCH_LIMITS, loadEntry, makeHost, makeOutcome, waitForDrain } from '../plugin-host.js';

interface Input {
  relay: { url: string; ca: string };
  /** A loopback URL where nothing listens: the relay is down. */
  downUrl: string;
  backlogs: number[];
  samples: number;
  warmup: number;
}

const input = readInput<Input>();
const entry = await loadEntry();
const root = await fs.mkdtemp(path.join(os.tmpdir(), 'bench-enqueue-'));

const subjects = await Promise.all(
  input.backlogs.map(async (backlog) => {
    const dataDir = path.join(root, `b${backlog}`);
    const relay = backlog === 0 ? input.relay : { url: input.downUrl, ca: input.relay.ca };
    const plugin = await entry.activate(makeHost(dataDir, relay), { limits: BENCH_LIMITS });
    return { backlog, dataDir, plugin, floor: [] as number[], hook: [] as number[] };
  }),
);

for (const subject of subjects) {
  for (let start = 0; start < subject.backlog; start += 500) {
    const count = Math.min(500, subject.backlog - start);
    const results = await Promise.all(
      Array.from({ length: count }, (_, index) =>
        subject.plugin.hooks['connect:confirmed'](makeOutcome(start + index, 'backlog')),
      ),
    );

    if (results.some((result) => !result.queued)) {
      throw new Error(`backlog outcome not queued: ${JSON.stringify(results[0])}`);
    }
  }
}

// The floor record is as long as one journal line of the plugin's own enqueue record.
const journal = await fs.readFile(path.join(subjects[0]!.dataDir, 'outbox', 'journal.log'), 'utf8');
const sampleLine = journal.split('\n').find((line) => line.includes('"type":"enqueue"'));
const floorRecord = Buffer.from(`\n${sampleLine ?? 'x'.repeat(600)}\n`);

const floorFiles = await Promise.all(
  subjects.map((subject) =>
    fs.open(
      path.join(subject.dataDir, 'outbox', 'floor.log'),
      constants.O_APPEND | constants.O_CREAT | constants.O_RDWR,
      0o600,
    ),
  ),
);

for (let round = 0; round < input.warmup + input.samples; round += 1) {
  for (const [index, subject] of subjects.entries()) {
    const floorFile = floorFiles[index]!;
    let started = performance.now();
    await floorFile.write(floorRecord, 0, floorRecord.length, null);
    await floorFile.sync();
    const floorMs = performance.now() - started;

    started = performance.now();
    const result = await subject.plugin.hooks['connect:confirmed'](makeOutcome(round, 'measured'));
    const hookMs = performance.now() - started;

    if (!result.queued) {
      throw new Error(`measured outcome not queued: ${JSON.stringify(result)}`);
    }

    if (round >= input.warmup) {
      subject.floor.push(floorMs);
      subject.hook.push(hookMs);
    }

    if (subject.backlog === 0) {
      // An empty backlog for every sample: the event just queued is delivered first.
      await waitForDrain(subject.plugin);
    }
  }
}

const pending = subjects.map((subject) => subject.plugin.runtime?.outbox.pendingCount ?? -1);

await Promise.all(floorFiles.map((file) => file.close()));
await Promise.all(subjects.map((subject) => subject.plugin.deactivate()));
await fs.rm(root, { recursive: true, force: true });

reportResult({
  recordBytes: floorRecord.length,
  subjects: subjects.map((subject, index) => ({
    backlog: subject.backlog,
    pendingAtEnd: pending[index],
    floor: subject.floor,
    hook: subject.hook,
  })),
});
