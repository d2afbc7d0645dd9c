import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ConnectOutcome } from '../../src/host.js';
import { activate } from '../../src/plugin.js';
import { startTestRelay, type ReceivedRequest, type RelayHandler } from '../helpers/https-relay.js';

export const TEST_SECRET = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;

export type FiredOutcome = ConnectOutcome & {
  hook: 'connect:confirmed' | 'connect:cancelled' | 'connect:failed';
};

/**
 * Activates the plugin with a relay whose callback URL is a local HTTPS test relay, fires the
 * outcomes one after another, and returns the requests the relay received, bodies and headers
 * as sent. `expectedRequests` covers retries caused by `handler`.
 */
export async function collectCallbacks(
  outcomes: FiredOutcome[],
  options: { secret?: string; handler?: RelayHandler; expectedRequests?: number } = {},
): Promise<ReceivedRequest[]> {
  const relay = await startTestRelay({ handler: options.handler });
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'relay-kit-'));
  const secret = options.secret === undefined ? TEST_SECRET : options.secret;
  const plugin = await activate({
    dataDir,
    app: { version: '1.6.0', platform: 'win32' },
    config: {
      relays: { acme: { callbackUrl: relay.url, ...(secret === '' ? {} : { secret }) } },
      retry: { initialDelayMs: 100, maxDelayMs: 1000, maxAgeHours: 72 },
      network: { allowPrivateAddresses: true, extraCaCertificates: [relay.ca], timeoutMs: 2000 },
    },
  });

  try {
    for (const { hook, ...outcome } of outcomes) {
      const result = await plugin.hooks[hook](outcome);

      if (!result.queued) {
        throw new Error(`outcome not queued: ${result.reason}: ${result.message}`);
      }
    }

    return await relay.waitForRequests(options.expectedRequests ?? outcomes.length, 10_000);
  } finally {
    await plugin.deactivate();
    await relay.close();
    await fs.rm(dataDir, { recursive: true, force: true });
  }
}

/** Builds the kit's request shape from what the test relay received. */
export function asCallbackRequest(request: ReceivedRequest) {
  return { body: request.body, headers: request.headers };
}
