import { promises as fs } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalRelay, type LocalRelay } from '../../src/dev-host/local-relay.js';
import { activate, type ConnectWebhookPlugin } from '../../src/plugin.js';

let relay: LocalRelay;
let dataDir: string;
let plugin: ConnectWebhookPlugin;

beforeAll(async () => {
  relay = await startLocalRelay();
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'local-relay-kit-'));
  plugin = await activate({
    dataDir,
    app: { version: '1.6.0', platform: 'linux' },
    config: {
      relays: { dev: { callbackUrl: relay.url, secret: relay.secret } },
      retry: { initialDelayMs: 100, maxDelayMs: 1000, maxAgeHours: 72 },
      network: { allowPrivateAddresses: true, extraCaCertificates: [relay.certificate] },
    },
  });
});

afterAll(async () => {
  await plugin.deactivate();
  await relay.close();
  await fs.rm(dataDir, { recursive: true, force: true });
});

async function waitForVerified(id: string): Promise<void> {
  const deadline = Date.now() + 10_000;

  while (!relay.verifiedIds.has(id)) {
    if (Date.now() > deadline) {
      throw new Error(`relay did not verify ${id} within 10 s`);
    }

    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('local relay with the relay kit', () => {
  it('counts a retried callback once', async () => {
    relay.mode = 'fail-once';
    const result = await plugin.hooks['connect:confirmed']({
      relay: 'dev',
      key: 'sk-local-0123456789',
      ref: 'dev-ref',
    });
    expect(result.queued).toBe(true);
    const id = result.queued ? result.eventId : '';

    await waitForVerified(id);
    const entries = relay.received.filter((entry) => entry.eventId === id);

    expect(entries.map((entry) => entry.answeredWith)).toEqual([503, 200]);
    expect(entries.every((entry) => entry.verified)).toBe(true);
    expect(relay.tally.summary()).toMatchObject({ total: 1, success: 1 });
    expect(relay.tally.summary().relays[0]?.refs[0]?.ref).toBe('dev-ref');
  });

  it('rejects a wrongly signed request with 401', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const request = httpsRequest(
        relay.url,
        {
          method: 'POST',
          ca: relay.certificate,
          headers: {
            'content-type': 'application/json',
            'webhook-id': 'msg_forged',
            'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
            'webhook-signature': `v1,${Buffer.alloc(32).toString('base64')}`,
          },
        },
        (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        },
      );
      request.on('error', reject);
      request.end('{}');
    });
    const entry = relay.received.find((received) => received.eventId === 'msg_forged');

    expect(status).toBe(401);
    expect(entry?.verified).toBe(false);
    expect(entry?.problem).toMatch(/^signature not verified/);
    expect(relay.tally.summary().total).toBe(1);
  });
});
