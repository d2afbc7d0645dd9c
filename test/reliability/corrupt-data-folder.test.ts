import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { activate, type ConnectWebhookPlugin } from '../../src/plugin.js';
import { startFaultRelay, type FaultRelay } from '../helpers/fault-relay.js';
import {
  exposedState,
  findSecret,
  FULL_API_KEY,
  loopbackConfig,
  makeDataDir,
  recordingHost,
  waitFor,
  type RecordedHost,
} from '../helpers/plugin-harness.js';

let relay: FaultRelay;
let dataDir: string;
const plugins: ConnectWebhookPlugin[] = [];
const hosts: RecordedHost[] = [];

beforeAll(async () => {
  relay = await startFaultRelay();
});

afterAll(async () => {
  await relay.close();
});

beforeEach(async () => {
  dataDir = await makeDataDir('corrupt-data');
});

afterEach(async () => {
  await Promise.all(plugins.splice(0).map((plugin) => plugin.deactivate()));
  const logs = Object.fromEntries(
    hosts.splice(0).map((host, index) => [`log ${index}`, host.logLines.join('\n')]),
  );
  expect(await findSecret(FULL_API_KEY, dataDir, logs)).toEqual([]);
  await fs.rm(dataDir, { recursive: true, force: true });
});

function pausedConfig(): Record<string, unknown> {
  const config = loopbackConfig(relay.url, relay.ca);
  return { ...config, relays: { acme: { callbackUrl: relay.url, paused: true } } };
}

async function start(config: unknown = pausedConfig()): Promise<{
  plugin: ConnectWebhookPlugin;
  host: RecordedHost;
}> {
  const host = recordingHost(dataDir, config);
  const plugin = await activate(host);
  plugins.push(plugin);
  hosts.push(host);
  return { plugin, host };
}

/** Queues `count` outcomes for a paused relay, so they stay pending, and deactivates. */
async function queuePending(count: number): Promise<string[]> {
  const { plugin } = await start();
  const ids: string[] = [];

  for (let index = 0; index < count; index += 1) {
    const result = await plugin.hooks['connect:confirmed']({
      relay: 'acme',
      key: FULL_API_KEY,
      ref: `ref-${index}`,
    });

    if (!result.queued) {
      throw new Error(`outcome not queued: ${result.message}`);
    }

    ids.push(result.eventId);
  }

  await plugin.deactivate();
  return ids;
}

const journalPath = () => path.join(dataDir, 'outbox', 'journal.log');
const settingsPath = () => path.join(dataDir, 'settings.json');

async function quarantined(): Promise<string[]> {
  return fs.readdir(path.join(dataDir, 'outbox', 'quarantine')).catch(() => []);
}

function pendingIds(plugin: ConnectWebhookPlugin): string[] {
  return [...plugin.runtime!.outbox.events()]
    .filter((event) => event.state === 'pending')
    .map((event) => event.id);
}

/** Resumes relay `acme` and waits until the relay has every one of `ids`. */
async function expectDelivered(plugin: ConnectWebhookPlugin, ids: string[]): Promise<void> {
  plugin.runtime!.resumeRelay('acme');
  await waitFor(
    () => ids.every((id) => relay.deliveredIds().includes(id)),
    `delivery of ${ids.length} kept events`,
  );
}

function warningsAbout(host: RecordedHost, text: string): string[] {
  return host.logLines.filter(
    (line) => (line.startsWith('warn') || line.startsWith('error')) && line.includes(text),
  );
}

describe('corrupt journal', () => {
  const damages: Array<{
    name: string;
    damage: (text: Buffer) => Buffer;
    kept: (ids: string[]) => string[];
    reason: string;
  }> = [
    {
      name: 'NUL bytes after the last record',
      damage: (text) => Buffer.concat([text, Buffer.alloc(4096)]),
      kept: (ids) => ids,
      reason: 'cut short',
    },
    {
      name: 'last record cut in the middle',
      damage: (text) => text.subarray(0, text.lastIndexOf('{"type"') + 40),
      kept: (ids) => ids.slice(0, -1),
      reason: 'cut short',
    },
    {
      name: 'middle record overwritten with NUL bytes',
      damage: (text) => {
        const start = text.indexOf('{"type":"enqueue"', text.indexOf('{"type":"enqueue"') + 1);
        const end = text.indexOf('\n', start);
        return Buffer.concat([
          text.subarray(0, start),
          Buffer.alloc(end - start),
          text.subarray(end),
        ]);
      },
      kept: (ids) => [ids[0]!, ids[2]!],
      reason: 'not valid JSON',
    },
    {
      name: 'record that fails the schema',
      damage: (text) => {
        const bad = Buffer.from('\n{"type":"enqueue","id":"x","relay":["acme"]}\n');
        return Buffer.concat([text.subarray(0, 1), bad, text.subarray(1)]);
      },
      kept: (ids) => ids,
      reason: 'does not match the journal schema',
    },
  ];

  for (const { name, damage, kept, reason } of damages) {
    it(`starts and keeps readable events: ${name}`, async () => {
      const ids = await queuePending(3);
      await fs.writeFile(journalPath(), damage(await fs.readFile(journalPath())));

      const { plugin, host } = await start();
      expect(plugin.runtime).toBeDefined();
      expect(pendingIds(plugin).sort()).toEqual(kept(ids).sort());
      expect(warningsAbout(host, 'moved unreadable outbox records aside').length).toBe(1);
      expect(host.logLines.some((line) => line.includes(reason))).toBe(true);
      expect((await quarantined()).some((file) => file.endsWith('.unreadable.json'))).toBe(true);
      await plugin.deactivate();

      // The compacted journal still has every readable event after another restart.
      const { plugin: again } = await start();
      expect(pendingIds(again).sort()).toEqual(kept(ids).sort());
      await expectDelivered(again, kept(ids));
    });
  }

  it('starts on an empty journal file', async () => {
    await fs.mkdir(path.join(dataDir, 'outbox'), { recursive: true });
    await fs.writeFile(journalPath(), '');
    const { plugin } = await start();
    expect(plugin.runtime?.outbox.size).toBe(0);
    const result = await plugin.hooks['connect:confirmed']({ relay: 'acme', key: FULL_API_KEY });
    expect(result.queued).toBe(true);
  });

  it('starts on a journal of NUL bytes only', async () => {
    await fs.mkdir(path.join(dataDir, 'outbox'), { recursive: true });
    await fs.writeFile(journalPath(), Buffer.alloc(8192));
    const { plugin, host } = await start();
    expect(plugin.runtime?.outbox.size).toBe(0);
    expect(warningsAbout(host, 'moved unreadable outbox records aside').length).toBe(1);
    const copies = (await quarantined()).filter((file) => file.endsWith('.log'));
    expect(copies).toHaveLength(1);
    const copy = await fs.readFile(path.join(dataDir, 'outbox', 'quarantine', copies[0]!));
    expect(copy.length).toBe(8192);
  });

  it('compacts over a stale lock of a killed process', async () => {
    const ids = await queuePending(2);
    await fs.appendFile(journalPath(), '\n{"type":"enqueue","id":"torn","own');
    // pid 2^22 + 1 is above Linux's default pid_max, so no live process has it.
    const lock = { pid: 4_194_305, host: (await import('node:os')).hostname(), at: Date.now() };
    await fs.writeFile(path.join(dataDir, 'outbox', 'compact.lock'), JSON.stringify(lock));

    const { plugin } = await start();
    expect(pendingIds(plugin).sort()).toEqual([...ids].sort());
    expect((await quarantined()).some((file) => file.endsWith('.unreadable.json'))).toBe(true);
  });
});

describe('corrupt settings file', () => {
  const contents: Array<{ name: string; bytes: Buffer }> = [
    { name: 'empty', bytes: Buffer.alloc(0) },
    { name: 'NUL bytes', bytes: Buffer.alloc(512) },
    { name: 'truncated JSON', bytes: Buffer.from('{"settings":{"enabled":tr') },
    {
      name: 'failing the schema',
      bytes: Buffer.from('{"settings":{"retry":{"initialDelayMs":"fast"}}}'),
    },
  ];

  for (const { name, bytes } of contents) {
    it(`starts with the host config and keeps the outbox: ${name}`, async () => {
      const ids = await queuePending(2);
      await fs.writeFile(settingsPath(), bytes);

      const { plugin, host } = await start(loopbackConfig(relay.url, relay.ca));
      expect(plugin.runtime).toBeDefined();
      expect(warningsAbout(host, 'settings').length).toBeGreaterThan(0);
      const aside = (await fs.readdir(dataDir)).filter((file) =>
        file.startsWith('settings.json.unreadable-'),
      );
      expect(aside).toHaveLength(1);
      expect(await fs.readFile(path.join(dataDir, aside[0]!))).toEqual(bytes);

      // The host config names relay acme's URL, so the kept events are delivered, not skipped.
      await waitFor(
        () => ids.every((id) => relay.deliveredIds().includes(id)),
        'delivery of the kept events',
      );
      expect(exposedState(plugin)['outbox events']).not.toContain('"skipped"');
    });
  }
});
