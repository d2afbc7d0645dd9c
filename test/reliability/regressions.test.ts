import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConnectOutcome } from '../../src/host.js';
import { Outbox } from '../../src/outbox/outbox.js';
import { activate } from '../../src/plugin.js';
import { startFaultRelay } from '../helpers/fault-relay.js';
import {
  findSecret,
  FULL_API_KEY,
  loopbackConfig,
  makeDataDir,
  recordingHost,
  waitFor,
} from '../helpers/plugin-harness.js';

let dataDir: string;

beforeEach(async () => {
  dataDir = await makeDataDir('regressions');
});

afterEach(async () => {
  await fs.rm(dataDir, { recursive: true, force: true });
});

const pausedRelay = {
  relays: { acme: { callbackUrl: 'https://relay.example.test/hook', paused: true } },
};

describe('core regressions', () => {
  it('keeps an outcome that occurred before 1970', async () => {
    const host = recordingHost(dataDir, pausedRelay);
    const plugin = await activate(host);
    const result = await plugin.hooks['connect:confirmed']({
      relay: 'acme',
      key: FULL_API_KEY,
      occurredAt: '1969-07-20T20:17:40Z',
    });
    expect(result.queued).toBe(true);
    await plugin.deactivate();

    const reopened = await activate(recordingHost(dataDir, pausedRelay));
    const id = result.queued ? result.eventId : '';
    expect(reopened.runtime!.outbox.get(id)?.state).toBe('pending');
    expect(JSON.parse(reopened.runtime!.outbox.get(id)!.body).timestamp).toBe(
      '1969-07-20T20:17:40Z',
    );
    await reopened.deactivate();
  });

  it('rejects an outcome whose traps throw as invalid', async () => {
    const host = recordingHost(dataDir, pausedRelay);
    const plugin = await activate(host);
    const hostile = new Proxy(
      {},
      {
        getOwnPropertyDescriptor() {
          throw new Error(`cannot read ${FULL_API_KEY}`);
        },
      },
    );

    const result = await plugin.hooks['connect:confirmed'](hostile as ConnectOutcome);
    expect(result.queued).toBe(false);
    expect(result.queued ? '' : result.reason).toBe('invalid');
    expect(result.queued ? '' : result.message).toMatch(/^outcome: /);
    await plugin.deactivate();
    expect(await findSecret(FULL_API_KEY, dataDir, { log: host.logLines.join('\n') })).toEqual([]);
  });

  it('rejects an event it cannot read back', async () => {
    const directory = path.join(dataDir, 'outbox');
    const outbox = await Outbox.open(directory, randomUUID());
    const id = randomUUID();
    const event = {
      id,
      relay: 'acme',
      status: 'success' as const,
      occurredAt: Date.now(),
      body: '{}',
      state: 'pending' as const,
      errorCode: 'E'.repeat(65),
    };

    await expect(outbox.enqueue(event)).rejects.toThrow(/errorCode/);
    expect(outbox.get(id)).toBeUndefined();
    await outbox.close();

    const reopened = await Outbox.open(directory, randomUUID());
    expect(reopened.size).toBe(0);
    await reopened.close();
  });

  it('sends the backlog of a relay resumed right after activation', async () => {
    const relay = await startFaultRelay();

    try {
      const config = {
        ...loopbackConfig(relay.url, relay.ca),
        relays: { acme: { callbackUrl: relay.url, paused: true } },
      };
      const first = await activate(recordingHost(dataDir, config));
      const result = await first.hooks['connect:confirmed']({ relay: 'acme', key: FULL_API_KEY });
      await first.deactivate();

      // Resumed while the start-up pass still runs over the paused relay's events.
      const plugin = await activate(recordingHost(dataDir, config));
      plugin.runtime!.resumeRelay('acme');
      const id = result.queued ? result.eventId : '';
      await waitFor(() => relay.deliveredIds().includes(id), 'delivery after the resume', 5000);
      await plugin.deactivate();
    } finally {
      await relay.close();
    }
  });
});
