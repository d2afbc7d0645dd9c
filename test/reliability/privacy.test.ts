import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activate } from '../../src/plugin.js';
import { startFaultRelay, type FaultRelay } from '../helpers/fault-relay.js';
import {
  exposedState,
  findSecret,
  FULL_API_KEY,
  loopbackConfig,
  makeDataDir,
  recordingHost,
  TEST_SECRET,
  waitFor,
} from '../helpers/plugin-harness.js';

const UNENCRYPTED_WARNING = 'signing secrets are stored unencrypted';

let relay: FaultRelay;

beforeAll(async () => {
  relay = await startFaultRelay();
});

afterAll(async () => {
  await relay.close();
});

describe('signing secrets without encryption', () => {
  it('warns once per activation and keeps the file owner-only', async () => {
    const parent = await makeDataDir('privacy-secrets');
    // The plugin creates its data folder itself, so the folder's mode is the plugin's.
    const dataDir = path.join(parent, 'plugin-data');
    const host = recordingHost(
      dataDir,
      loopbackConfig(relay.url, relay.ca, { secret: TEST_SECRET }),
    );
    const plugin = await activate(host);
    const settings = plugin.runtime!.settings;

    // Saving writes the secret to disk; the warning is not repeated.
    const saved = settings.update(settings.get());
    expect(saved.ok).toBe(true);
    settings.setRelayPaused('acme', false);

    const warnings = host.logLines.filter((line) => line.includes(UNENCRYPTED_WARNING));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^warn /);
    expect(warnings[0]).not.toContain(TEST_SECRET);

    const fileMode = (await fs.stat(settings.filePath)).mode & 0o777;
    expect(fileMode.toString(8)).toBe('600');
    const folderMode = (await fs.stat(dataDir)).mode & 0o777;
    expect(folderMode & 0o077).toBe(0);
    await plugin.deactivate();

    // A second activation with the same host config warns again, once.
    const again = recordingHost(
      dataDir,
      loopbackConfig(relay.url, relay.ca, { secret: TEST_SECRET }),
    );
    const second = await activate(again);
    expect(again.logLines.filter((line) => line.includes(UNENCRYPTED_WARNING))).toHaveLength(1);
    await second.deactivate();
    await fs.rm(parent, { recursive: true, force: true });
  });

  it('does not warn without a signing secret', async () => {
    const dataDir = await makeDataDir('privacy-no-secret');
    const host = recordingHost(dataDir, loopbackConfig(relay.url, relay.ca));
    const plugin = await activate(host);
    expect(host.logLines.filter((line) => line.includes(UNENCRYPTED_WARNING))).toEqual([]);
    await plugin.deactivate();
    await fs.rm(dataDir, { recursive: true, force: true });
  });
});

describe('full API key', () => {
  it('appears nowhere after outcomes and failures', async () => {
    const dataDir = await makeDataDir('privacy-key');
    const host = recordingHost(
      dataDir,
      loopbackConfig(relay.url, relay.ca, { secret: TEST_SECRET }),
    );
    // The relay's error page quotes the whole key, as a careless receiver's might.
    await relay.setFault({
      kind: 'status',
      status: 400,
      body: `{"error":"key ${FULL_API_KEY} is not valid","key":"${FULL_API_KEY}"}`,
    });
    const plugin = await activate(host);

    const results = await Promise.all([
      plugin.hooks['connect:confirmed']({ relay: 'acme', key: FULL_API_KEY, ref: 'r1' }),
      plugin.hooks['connect:cancelled']({ relay: 'acme', key: FULL_API_KEY }),
      plugin.hooks['connect:failed']({
        relay: 'acme',
        key: FULL_API_KEY,
        error: { code: 'STORE_FAILED', message: `could not save ${FULL_API_KEY} to the store` },
      }),
      plugin.hooks['connect:confirmed']({ relay: 'unknown', key: FULL_API_KEY }),
      plugin.hooks['connect:confirmed']({ relay: 'acme', key: FULL_API_KEY, ref: FULL_API_KEY }),
      plugin.hooks['connect:confirmed']({
        relay: FULL_API_KEY.replace(/-/g, ''),
        key: FULL_API_KEY,
      }),
    ]);
    expect(results.filter((result) => result.queued)).toHaveLength(3);
    await waitFor(
      () => [...plugin.runtime!.outbox.events()].every((event) => event.state !== 'pending'),
      'every event to finish',
    );
    const excerpts = [...plugin.runtime!.outbox.events()].flatMap((event) =>
      event.attempts.map((attempt) => attempt.excerpt ?? ''),
    );
    expect(excerpts.some((excerpt) => excerpt.includes('is not valid'))).toBe(true);
    const texts = {
      ...exposedState(plugin),
      results: JSON.stringify(results),
      log: host.logLines.join('\n'),
      requests: relay.requests
        .map((request) => request.body + JSON.stringify(request.headers))
        .join('\n'),
    };
    await plugin.deactivate();

    expect(await findSecret(FULL_API_KEY, dataDir, texts)).toEqual([]);
    const files = await fs.readdir(dataDir, { recursive: true });
    expect(files.length).toBeGreaterThan(0);
    expect(files.some((file) => file.endsWith(path.join('outbox', 'journal.log')))).toBe(true);
    await relay.setFault({ kind: 'ok' });
    await fs.rm(dataDir, { recursive: true, force: true });
  });
});
