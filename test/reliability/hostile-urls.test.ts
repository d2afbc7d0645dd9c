import { promises as fs } from 'node:fs';
import type dns from 'node:dns';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutboxEvent } from '../../src/outbox/outbox.js';
import { activate, type ConnectWebhookPlugin } from '../../src/plugin.js';
import { installConnectFence, type ConnectFence } from '../helpers/connect-fence.js';
import { startFaultRelay, type FaultRelay } from '../helpers/fault-relay.js';
import { startTestRelay, type TestRelay } from '../helpers/https-relay.js';
import {
  exposedState,
  findSecret,
  FULL_API_KEY,
  makeDataDir,
  recordingHost,
  waitFor,
  type RecordedHost,
} from '../helpers/plugin-harness.js';

/** A public address that the fake resolver returns; nothing ever connects to it. */
const PUBLIC_ADDRESS = '192.0.43.10';

/** DNS results of the fake resolver, by host name. */
const DNS_ANSWERS: Record<string, dns.LookupAddress[]> = {
  'loopback.rebind.test': [{ address: '127.0.0.1', family: 4 }],
  'metadata.rebind.test': [{ address: '169.254.169.254', family: 4 }],
  'mapped.rebind.test': [{ address: '::ffff:127.0.0.1', family: 6 }],
  'private.rebind.test': [{ address: '10.1.2.3', family: 4 }],
  'public-then-loopback.rebind.test': [
    { address: PUBLIC_ADDRESS, family: 4 },
    { address: '127.0.0.1', family: 4 },
  ],
  localhost: [
    { address: '127.0.0.1', family: 4 },
    { address: '::1', family: 6 },
  ],
};

const resolverCalls: string[] = [];
const fakeResolve = ((hostname: string, options: unknown, callback: unknown) => {
  resolverCalls.push(hostname);
  const done = (typeof options === 'function' ? options : callback) as (
    error: NodeJS.ErrnoException | null,
    addresses: dns.LookupAddress[],
  ) => void;
  const answer = DNS_ANSWERS[hostname];

  if (answer === undefined) {
    const error: NodeJS.ErrnoException = new Error(`no answer for ${hostname}`);
    error.code = 'ENOTFOUND';
    done(error, []);
    return;
  }

  done(null, answer);
}) as unknown as typeof dns.lookup;

let relay: FaultRelay;
let relay6: TestRelay;
let fence: ConnectFence;

beforeAll(async () => {
  relay = await startFaultRelay();
  relay6 = await startTestRelay({ host: '::1' });
  fence = installConnectFence();
});

afterAll(async () => {
  fence.uninstall();
  await relay.close();
  await relay6.close();
});

/** Hostile spellings aimed at the loopback relays' ports (0 when only the names are needed). */
function hostileUrls(port = 0, port6 = 0): Record<string, string> {
  return {
    'short-127': `https://127.1:${port}/hook`,
    decimal: `https://2130706433:${port}/hook`,
    'hex-octets': `https://0x7f.1:${port}/hook`,
    'octal-octets': `https://0177.0.0.1:${port}/hook`,
    'trailing-dot': `https://127.0.0.1.:${port}/hook`,
    'percent-encoded': `https://%31%32%37.0.0.1:${port}/hook`,
    'full-width-digits': `https://\uFF11\uFF12\uFF17.0.0.1:${port}/hook`,
    'ipv6-loopback': `https://[::1]:${port6}/hook`,
    'ipv4-mapped-dotted': `https://[::ffff:127.0.0.1]:${port}/hook`,
    'ipv4-mapped-hex': `https://[::ffff:7f00:1]:${port}/hook`,
    'ipv4-compatible': `https://[::127.0.0.1]:${port}/hook`,
    'nat64-loopback': `https://[64:ff9b::7f00:1]:${port}/hook`,
    'link-local-v6': `https://[fe80::1]:${port}/hook`,
    'unique-local': `https://[fd00::1]:${port}/hook`,
    'multicast-v6': `https://[ff02::1]:${port}/hook`,
    'multicast-v4': `https://224.0.0.1:${port}/hook`,
    metadata: 'https://169.254.169.254/latest/meta-data/',
    'unspecified-v4': `https://0.0.0.0:${port}/hook`,
    'unspecified-short': `https://0:${port}/hook`,
    'unspecified-v6': `https://[::]:${port}/hook`,
    'private-10': `https://10.0.0.1:${port}/hook`,
    'private-192': `https://192.168.1.1:${port}/hook`,
    'name-to-loopback': `https://loopback.rebind.test:${port}/hook`,
    'name-to-metadata': 'https://metadata.rebind.test/latest/meta-data/',
    'name-to-mapped': `https://mapped.rebind.test:${port}/hook`,
    'name-to-private': `https://private.rebind.test:${port}/hook`,
    'public-then-loopback': `https://public-then-loopback.rebind.test:${port}/hook`,
    localhost: `https://localhost:${port}/hook`,
  };
}

describe('hostile callback URLs', () => {
  let plugin: ConnectWebhookPlugin;
  let host: RecordedHost;
  let dataDir: string;
  const eventByRelay = new Map<string, string>();

  beforeAll(async () => {
    dataDir = await makeDataDir('hostile-urls');
    const relays = Object.fromEntries(
      Object.entries(hostileUrls(relay.port, relay6.port)).map(([name, url]) => [
        name,
        { callbackUrl: url },
      ]),
    );
    host = recordingHost(dataDir, {
      relays,
      retry: { initialDelayMs: 100, maxDelayMs: 2000, maxAgeHours: 72 },
      network: {
        allowPrivateAddresses: false,
        extraCaCertificates: [relay.ca],
        timeoutMs: 1000,
      },
    });
    plugin = await activate(host, { resolve: fakeResolve });

    for (const name of Object.keys(relays)) {
      const result = await plugin.hooks['connect:confirmed']({ relay: name, key: FULL_API_KEY });

      if (!result.queued) {
        throw new Error(`outcome for ${name} not queued: ${result.message}`);
      }

      eventByRelay.set(name, result.eventId);
    }

    await waitFor(
      () => [...eventByRelay.values()].every((id) => eventOf(id).attempts.length > 0),
      'one attempt per hostile URL',
    );
  });

  afterAll(async () => {
    const exposed = exposedState(plugin);
    await plugin.deactivate();
    const texts = { ...exposed, log: host.logLines.join('\n') };
    expect(await findSecret(FULL_API_KEY, dataDir, texts)).toEqual([]);
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  function eventOf(id: string): OutboxEvent {
    const event = plugin.runtime!.outbox.get(id);

    if (event === undefined) {
      throw new Error(`event ${id} is not in the outbox`);
    }

    return event;
  }

  for (const name of Object.keys(hostileUrls())) {
    it(`rejects before connecting: ${name}`, () => {
      const event = eventOf(eventByRelay.get(name)!);
      const [attempt] = event.attempts;
      expect(attempt?.errorClass).toBe('address_not_allowed');
      expect(attempt?.classification).toBe('permanent');
      expect(attempt?.errorMessage).toMatch(/only public addresses are allowed/);
      expect(event.state).toBe('dead');
    });
  }

  it('opens no connection to any of them', () => {
    expect(fence.violations).toEqual([]);
    expect(relay.handshakes).toBe(0);
    expect(relay.requests).toHaveLength(0);
    expect(relay6.connectionCount).toBe(0);
  });

  it('checks the resolver answer on every attempt', async () => {
    const id = eventByRelay.get('public-then-loopback')!;
    const before = resolverCalls.filter((name) => name.startsWith('public-then')).length;

    for (let replay = 1; replay <= 3; replay += 1) {
      await plugin.runtime!.replay(id);
      await waitFor(
        () => eventOf(id).attempts.length === replay + 1 && eventOf(id).state === 'dead',
        `attempt ${replay + 1}`,
      );
    }

    const after = resolverCalls.filter((name) => name.startsWith('public-then')).length;
    expect(after - before).toBe(3);
    expect(
      eventOf(id).attempts.every((attempt) => attempt.errorClass === 'address_not_allowed'),
    ).toBe(true);
    expect(fence.violations).toEqual([]);
  });
});

describe('connect fence', () => {
  it('stops a socket aimed at a forbidden address', async () => {
    const strict = installConnectFence(() => false);

    try {
      const socket = net.connect({ host: '127.0.0.1', port: relay.port });
      const error = await new Promise<Error>((resolve) => socket.once('error', resolve));
      expect(error.message).toMatch(/connect fence/);
      expect(strict.violations).toEqual(['127.0.0.1']);
    } finally {
      strict.uninstall();
    }
  });
});

describe('callback URLs rejected when settings are saved', () => {
  const rejected: Record<string, string> = {
    'http:': 'http://relay.example.test/hook',
    'file:': 'file:///etc/passwd',
    'javascript:': 'javascript:alert(1)',
    'data:': 'data:text/plain,hello',
    'user and password': 'https://operator:hunter2-password@relay.example.test/hook',
    'password only': 'https://:hunter2-password@relay.example.test/hook',
    'user only': 'https://operator@relay.example.test/hook',
    'not a URL': 'relay.example.test/hook',
  };

  let plugin: ConnectWebhookPlugin;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await makeDataDir('hostile-settings');
    plugin = await activate(recordingHost(dataDir, {}));
  });

  afterAll(async () => {
    await plugin.deactivate();
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  for (const [name, url] of Object.entries(rejected)) {
    it(`rejects ${name}`, async () => {
      const settings = plugin.runtime!.settings;
      const before = settings.get();
      const result = settings.update({ ...before, relays: { acme: { callbackUrl: url } } });
      expect(result.ok).toBe(false);

      if (result.ok) {
        return;
      }

      expect(result.field).toBe('relays.acme.callbackUrl');
      expect(result.message).toMatch(/^relays\.acme\.callbackUrl: expected/);
      expect(result.message).not.toContain('hunter2');
      expect(settings.get()).toBe(before);
      const file = await fs.readFile(settings.filePath, 'utf8').catch(() => '');
      expect(file).not.toContain(url);
    });
  }
});
