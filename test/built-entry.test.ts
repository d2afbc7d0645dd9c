import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRelay, type TestRelay } from './helpers/https-relay.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// A host written only from the plugin contract: these types are declared here on purpose,
// not imported from the source, so the test checks the contract as Lime sees it.
interface ConnectOutcome {
  relay: string;
  key: string;
  name?: string;
  ref?: string;
  flowId?: string;
  occurredAt?: string | Date;
  error?: { code: string; message: string };
}

type HookResult =
  { queued: true; eventId: string } | { queued: false; reason: string; message: string };

interface ActivatedPlugin {
  hooks: Record<
    'connect:confirmed' | 'connect:cancelled' | 'connect:failed',
    (outcome: ConnectOutcome) => Promise<HookResult>
  >;
  deactivate(): Promise<void>;
}

const SECRET = `whsec_${Buffer.alloc(24, 3).toString('base64')}`;
const KEY = 'sk-abcdef0123456789ABCDEF0123456789';

let relay: TestRelay;
let dataDir: string;
let plugin: ActivatedPlugin;

beforeAll(async () => {
  relay = await startTestRelay({ path: '/lime/callback' });
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'built-entry-'));
  const manifest = JSON.parse(
    await fs.readFile(path.join(root, 'plugin.manifest.json'), 'utf8'),
  ) as { entry: string };
  const entry = path.join(root, manifest.entry);

  if (!existsSync(entry)) {
    throw new Error(`${manifest.entry} is missing: run "npm test", which builds before testing`);
  }

  const module = (await import(pathToFileURL(entry).href)) as {
    activate(host: unknown): Promise<ActivatedPlugin>;
  };
  const registry = {
    providers: [
      { id: 'contract-relay', name: 'Contract Relay', webhook: { callback_url: relay.url } },
    ],
  };
  plugin = await module.activate({
    dataDir,
    app: { version: '2.0.1', platform: 'win32', locale: 'zh-CN' },
    config: {
      relays: { 'contract-relay': { secret: SECRET } },
      network: { allowPrivateAddresses: true, extraCaCertificates: [relay.ca], timeoutMs: 2000 },
    },
    relays: { get: (id: string) => registry.providers.find((provider) => provider.id === id) },
  });
});

afterAll(async () => {
  await plugin?.deactivate();
  await relay?.close();
  await fs.rm(dataDir, { recursive: true, force: true });
});

describe('built entry named in the manifest', () => {
  it('delivers all three outcomes to a host written from the contract', async () => {
    const base = { relay: 'contract-relay', key: KEY, name: '工作密钥', ref: 'wechat-ad' };
    const results = [
      await plugin.hooks['connect:confirmed']({ ...base, flowId: 'f1' }),
      await plugin.hooks['connect:cancelled']({ ...base, flowId: 'f2', ref: undefined }),
      await plugin.hooks['connect:failed']({
        ...base,
        flowId: 'f3',
        error: { code: 'KEYCHAIN_LOCKED', message: 'keychain is locked' },
      }),
    ];
    expect(results.every((result) => result.queued)).toBe(true);
    const requests = await relay.waitForRequests(3);
    const verifier = new Webhook(SECRET);
    const bodies = requests.map(
      (request) =>
        verifier.verify(request.body.toString('utf8'), {
          'webhook-id': String(request.headers['webhook-id']),
          'webhook-timestamp': String(request.headers['webhook-timestamp']),
          'webhook-signature': String(request.headers['webhook-signature']),
        }) as Record<string, unknown>,
    );
    const byStatus = Object.fromEntries(bodies.map((body) => [body.status, body]));

    expect(Object.keys(byStatus).sort()).toEqual(['cancelled', 'error', 'success']);
    expect(byStatus.success).toMatchObject({
      event: 'connect',
      relay_id: 'contract-relay',
      ref: 'wechat-ad',
      ref_code: 'wechat-ad',
      key_prefix: 'sk-abcd',
    });
    expect(byStatus.success?.client).toMatchObject({ version: '2.0.1', platform: 'windows' });
    expect(byStatus.cancelled).not.toHaveProperty('ref');
    expect(byStatus.error).toMatchObject({
      error_code: 'KEYCHAIN_LOCKED',
      error_message: 'keychain is locked',
    });

    for (const request of requests) {
      expect(request.path).toBe('/lime/callback');
      expect(request.headers['user-agent']).toMatch(
        /^Lime\/2\.0\.1 lime-connect-webhook\/\d+\.\d+\.\d+/,
      );
      expect(request.body.toString('utf8')).not.toContain(KEY);
    }
  });
});
