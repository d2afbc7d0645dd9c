import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConnectOutcome, LimeHost } from '../src/host.js';
import { activate, type ConnectWebhookPlugin } from '../src/plugin.js';
import { PLUGIN_VERSION } from '../src/version.js';
import { startTestRelay, type ReceivedRequest, type TestRelay } from './helpers/https-relay.js';

const SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
const KEY = 'sk-live-0123456789abcdefghijklmnopqrstuvwxyz';
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let dataDir: string;
let relay: TestRelay;
const plugins: ConnectWebhookPlugin[] = [];
const logLines: string[] = [];

beforeEach(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'plugin-test-'));
  relay = await startTestRelay();
  logLines.length = 0;
});

afterEach(async () => {
  await Promise.all(plugins.splice(0).map((plugin) => plugin.deactivate()));
  await relay.close();
  await fs.rm(dataDir, { recursive: true, force: true });
});

function makeHost(
  overrides: { config?: Record<string, unknown>; relays?: LimeHost['relays'] } = {},
): LimeHost {
  const record =
    (level: string) =>
    (...args: unknown[]) =>
      logLines.push(
        `${level} ${args.map((arg) => (typeof arg === 'string' ? arg : JSON.stringify(arg))).join(' ')}`,
      );
  return {
    dataDir,
    app: { version: '1.6.0', platform: 'darwin', locale: 'en' },
    config: {
      relays: { acme: { callbackUrl: relay.url, secret: SECRET } },
      retry: { initialDelayMs: 100, maxDelayMs: 2000, maxAgeHours: 72 },
      network: { allowPrivateAddresses: true, extraCaCertificates: [relay.ca], timeoutMs: 1000 },
      ...overrides.config,
    },
    relays: overrides.relays,
    log: {
      debug: record('debug'),
      info: record('info'),
      warn: record('warn'),
      error: record('error'),
    },
  };
}

async function start(host: LimeHost = makeHost()): Promise<ConnectWebhookPlugin> {
  const plugin = await activate(host);
  plugins.push(plugin);
  return plugin;
}

function outcome(overrides: Partial<ConnectOutcome> = {}): ConnectOutcome {
  return {
    relay: 'acme',
    key: KEY,
    name: 'Work key',
    ref: 'spring-launch',
    occurredAt: '2026-02-16T10:00:00.123Z',
    ...overrides,
  };
}

function bodyOf(request: ReceivedRequest): Record<string, unknown> {
  return JSON.parse(request.body.toString('utf8')) as Record<string, unknown>;
}

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;

  while (!condition()) {
    if (Date.now() > deadline) {
      throw new Error('condition not met in time');
    }

    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function filesUnder(folder: string): Promise<string[]> {
  const entries = await fs.readdir(folder, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name));
}

describe('hooks', () => {
  it('delivers a confirmed outcome with every field and header', async () => {
    const plugin = await start();
    const result = await plugin.hooks['connect:confirmed'](outcome());
    expect(result.queued).toBe(true);
    const [request] = await relay.waitForRequests(1);
    const body = bodyOf(request!);

    expect(body).toEqual({
      event: 'connect',
      status: 'success',
      relay_id: 'acme',
      ref: 'spring-launch',
      ref_code: 'spring-launch',
      timestamp: '2026-02-16T10:00:00Z',
      event_id: result.queued ? result.eventId : '',
      key_prefix: 'sk-live',
      client: { version: '1.6.0', platform: 'macos', plugin_version: PLUGIN_VERSION },
    });
    expect(body.event_id).toMatch(UUID_V7);
    expect(request!.method).toBe('POST');
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.headers['user-agent']).toBe(
      `Lime/1.6.0 lime-connect-webhook/${PLUGIN_VERSION}`,
    );
    expect(request!.headers['webhook-id']).toBe(body.event_id);
    expect(
      Math.abs(Number(request!.headers['webhook-timestamp']) - Date.now() / 1000),
    ).toBeLessThan(5);
    expect(String(request!.headers['webhook-signature'])).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
  });

  it('signs the raw body so standardwebhooks verifies it', async () => {
    const plugin = await start();
    await plugin.hooks['connect:confirmed'](outcome({ name: 'emoji 🎉 and \u2028 separator' }));
    const [request] = await relay.waitForRequests(1);
    const verified = new Webhook(SECRET).verify(request!.body.toString('utf8'), {
      'webhook-id': String(request!.headers['webhook-id']),
      'webhook-timestamp': String(request!.headers['webhook-timestamp']),
      'webhook-signature': String(request!.headers['webhook-signature']),
    });
    expect(verified).toMatchObject({ status: 'success' });
  });

  it('sends cancelled and error outcomes with their fields', async () => {
    const plugin = await start();
    await plugin.hooks['connect:cancelled'](outcome({ ref: undefined }));
    await plugin.hooks['connect:failed'](
      outcome({ error: { code: 'STORE_WRITE_FAILED', message: `could not save ${KEY}` } }),
    );
    const requests = await relay.waitForRequests(2);
    const cancelled = requests.map(bodyOf).find((body) => body.status === 'cancelled')!;
    const failed = requests.map(bodyOf).find((body) => body.status === 'error')!;

    expect(cancelled).not.toHaveProperty('ref');
    expect(cancelled).not.toHaveProperty('ref_code');
    expect(cancelled).not.toHaveProperty('error_code');
    expect(failed.error_code).toBe('STORE_WRITE_FAILED');
    expect(String(failed.error_message)).not.toContain(KEY);
    expect(String(failed.error_message)).toContain('sk-live');
  });

  it('queues the same flow id once', async () => {
    const plugin = await start();
    const [first, second] = await Promise.all([
      plugin.hooks['connect:confirmed'](outcome({ flowId: 'dialog-1' })),
      plugin.hooks['connect:confirmed'](outcome({ flowId: 'dialog-1' })),
    ]);
    const third = await plugin.hooks['connect:confirmed'](outcome({ flowId: 'dialog-1' }));

    expect(first).toEqual(second);
    expect(third).toEqual(first);
    await relay.waitForRequests(1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(relay.requests).toHaveLength(1);
  });

  it('rejects invalid outcomes naming the field', async () => {
    const plugin = await start();
    const cases: Array<[unknown, string]> = [
      [{ key: KEY }, 'relay'],
      [{ relay: 'acme' }, 'key'],
      [{ relay: 42, key: KEY }, 'relay'],
      [{ relay: 'acme', key: KEY, ref: 'x'.repeat(1_048_576) }, 'ref'],
      [null, 'outcome'],
    ];

    for (const [input, field] of cases) {
      const result = await plugin.hooks['connect:confirmed'](input as ConnectOutcome);
      expect(result.queued).toBe(false);

      if (!result.queued) {
        expect(result.reason).toBe('invalid');
        expect(result.message.startsWith(field)).toBe(true);
      }
    }

    expect(plugin.runtime?.drops.invalid).toBe(cases.length);
  });

  it('resolves after the event is in the journal', async () => {
    relay.setHandler((_request, response) => {
      response.writeHead(503).end();
    });
    const plugin = await start();
    const result = await plugin.hooks['connect:confirmed'](outcome());
    const journal = await fs.readFile(path.join(dataDir, 'outbox', 'journal.log'), 'utf8');
    expect(result.queued).toBe(true);
    expect(journal).toContain(result.queued ? result.eventId : 'no event id');
  });

  it('keeps the pending cap under concurrent hooks', async () => {
    const host = makeHost({
      config: { relays: { acme: { callbackUrl: relay.url, secret: SECRET, paused: true } } },
    });
    const plugin = await activate(host, { limits: { maxPending: 10, burst: 100, perMinute: 100 } });
    plugins.push(plugin);
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, index) =>
        plugin.hooks['connect:confirmed'](outcome({ flowId: `dialog-${index}` })),
      ),
    );

    expect(results.filter((result) => result.queued)).toHaveLength(10);
    expect(plugin.runtime!.outbox.pendingCount).toBe(10);
    expect(plugin.runtime!.drops.outboxFull).toBe(30);
  });

  it('records a relay without a callback URL as skipped', async () => {
    const plugin = await start();
    const result = await plugin.hooks['connect:confirmed'](outcome({ relay: 'unknown-relay' }));

    expect(result).toMatchObject({ queued: false, reason: 'no_callback_url' });
    const events = [...plugin.runtime!.outbox.events()];
    expect(events.map((event) => event.state)).toEqual(['skipped']);
  });

  it('reads the callback URL from the registry', async () => {
    const registry = {
      get: (id: string) =>
        id === 'from-registry'
          ? { id, name: 'Registry relay', webhook: { callback_url: relay.url } }
          : undefined,
    };
    const plugin = await start(makeHost({ relays: registry }));
    await plugin.hooks['connect:confirmed'](outcome({ relay: 'from-registry' }));
    const [request] = await relay.waitForRequests(1);
    expect(bodyOf(request!).relay_id).toBe('from-registry');
    expect(request!.headers['webhook-signature']).toBeUndefined();
  });

  it('never writes the full key to the data folder', async () => {
    relay.setHandler((_request, response) => {
      response.writeHead(500).end(`echo ${KEY}`);
    });
    const plugin = await start();
    await plugin.hooks['connect:confirmed'](outcome({ flowId: KEY }));
    await plugin.hooks['connect:failed'](
      outcome({ error: { code: 'E', message: `failed for ${KEY}` } }),
    );
    await relay.waitForRequests(2);
    await plugin.deactivate();

    for (const file of await filesUnder(dataDir)) {
      const content = await fs.readFile(file, 'utf8');
      expect(content.includes(KEY), file).toBe(false);
    }

    expect(logLines.join('\n')).not.toContain(KEY);
  });
});

describe('delivery', () => {
  it('retries 503 with the same event id and body', async () => {
    let calls = 0;
    relay.setHandler((_request, response) => {
      calls += 1;
      response.writeHead(calls === 1 ? 503 : 200).end();
    });
    const plugin = await start();
    const result = await plugin.hooks['connect:confirmed'](outcome());
    const [first, second] = await relay.waitForRequests(2);

    expect(first!.headers['webhook-id']).toBe(second!.headers['webhook-id']);
    expect(first!.body.equals(second!.body)).toBe(true);
    await waitFor(
      () => plugin.runtime!.outbox.get(result.queued ? result.eventId : '')?.state === 'delivered',
    );
    expect(plugin.runtime!.outbox.get(result.queued ? result.eventId : '')?.attemptCount).toBe(2);
  });

  it('honours Retry-After on 429', async () => {
    let calls = 0;
    relay.setHandler((_request, response) => {
      calls += 1;
      response.writeHead(calls === 1 ? 429 : 200, calls === 1 ? { 'retry-after': '1' } : {}).end();
    });
    const plugin = await start();
    await plugin.hooks['connect:confirmed'](outcome());
    const [first, second] = await relay.waitForRequests(2, 5000);
    expect(second!.receivedAt - first!.receivedAt).toBeGreaterThanOrEqual(950);
  });

  it('marks 400 dead without a retry', async () => {
    relay.setHandler((_request, response) => {
      response.writeHead(400).end('{"error":"bad payload"}');
    });
    const plugin = await start();
    const result = await plugin.hooks['connect:confirmed'](outcome());
    const id = result.queued ? result.eventId : '';
    await waitFor(() => plugin.runtime!.outbox.get(id)?.state === 'dead');
    await new Promise((resolve) => setTimeout(resolve, 400));

    expect(relay.requests).toHaveLength(1);
    expect(plugin.runtime!.outbox.get(id)?.reason).toContain('400');
    expect(plugin.runtime!.outbox.get(id)?.attempts[0]?.excerpt).toContain('bad payload');
  });

  it('does not follow a 302 and records its Location', async () => {
    const target = await startTestRelay();

    try {
      relay.setHandler((_request, response) => {
        response.writeHead(302, { location: `${target.url}?token=secret` }).end();
      });
      const plugin = await start();
      const result = await plugin.hooks['connect:confirmed'](outcome());
      const id = result.queued ? result.eventId : '';
      await waitFor(() => plugin.runtime!.outbox.get(id)?.state === 'dead');

      expect(target.requests).toHaveLength(0);
      const attempt = plugin.runtime!.outbox.get(id)?.attempts[0];
      expect(attempt?.httpStatus).toBe(302);
      expect(attempt?.location).toBe(target.url);
    } finally {
      await target.close();
    }
  });

  it('records a 302 with a 5000-character Location once', async () => {
    relay.setHandler((_request, response) => {
      response.writeHead(302, { location: `https://elsewhere.example/${'a'.repeat(5000)}` }).end();
    });
    const plugin = await start();
    const result = await plugin.hooks['connect:confirmed'](outcome());
    const id = result.queued ? result.eventId : '';
    await waitFor(() => plugin.runtime!.outbox.get(id)?.state === 'dead');
    await new Promise((resolve) => setTimeout(resolve, 300));

    expect(relay.requests).toHaveLength(1);
    expect(plugin.runtime!.outbox.get(id)?.attempts[0]?.location?.length).toBeLessThanOrEqual(500);
  });

  it('times out a relay that never answers, then retries', async () => {
    let calls = 0;
    relay.setHandler((_request, response) => {
      calls += 1;

      if (calls > 1) {
        response.writeHead(200).end();
      }
    });
    const plugin = await start();
    const result = await plugin.hooks['connect:confirmed'](outcome());
    const id = result.queued ? result.eventId : '';
    await waitFor(() => plugin.runtime!.outbox.get(id)?.state === 'delivered', 8000);

    const [timedOut] = plugin.runtime!.outbox.get(id)!.attempts;
    expect(timedOut?.errorClass).toBe('timeout');
    expect(timedOut?.durationMs).toBeLessThan(2500);
  });

  it('retries after a connection reset', async () => {
    let calls = 0;
    relay.setHandler((_request, response) => {
      calls += 1;

      if (calls === 1) {
        response.socket?.destroy();
        return;
      }

      response.writeHead(200).end();
    });
    const plugin = await start();
    const result = await plugin.hooks['connect:confirmed'](outcome());
    const id = result.queued ? result.eventId : '';
    await waitFor(() => plugin.runtime!.outbox.get(id)?.state === 'delivered');
    expect(plugin.runtime!.outbox.get(id)?.attempts[0]?.classification).toBe('retry');
  });

  it('reads only the start of a 10 MB response', async () => {
    relay.setHandler((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.end(Buffer.alloc(10 * 1024 * 1024, 'a'));
    });
    const plugin = await start();
    const result = await plugin.hooks['connect:confirmed'](outcome());
    const id = result.queued ? result.eventId : '';
    await waitFor(() => plugin.runtime!.outbox.get(id)?.state === 'delivered');
    const attempt = plugin.runtime!.outbox.get(id)!.attempts[0]!;

    expect(Buffer.byteLength(attempt.excerpt ?? '')).toBeLessThanOrEqual(4096);
    expect(attempt.durationMs).toBeLessThan(1000);
  });

  it('pauses a relay that answers 410 Gone', async () => {
    relay.setHandler((_request, response) => {
      response.writeHead(410).end();
    });
    const plugin = await start();
    await plugin.hooks['connect:confirmed'](outcome());
    await waitFor(() => plugin.runtime!.settings.get().relays.acme?.paused === true);
    const second = await plugin.hooks['connect:confirmed'](outcome());
    await new Promise((resolve) => setTimeout(resolve, 300));

    expect(relay.requests).toHaveLength(1);
    expect(plugin.runtime!.outbox.get(second.queued ? second.eventId : '')?.state).toBe('pending');
  });

  it('refuses a loopback relay unless private addresses are allowed', async () => {
    const plugin = await start(
      makeHost({
        config: {
          network: {
            allowPrivateAddresses: false,
            extraCaCertificates: [relay.ca],
            timeoutMs: 1000,
          },
        },
      }),
    );
    const result = await plugin.hooks['connect:confirmed'](outcome());
    const id = result.queued ? result.eventId : '';
    await waitFor(() => plugin.runtime!.outbox.get(id)?.attempts.length === 1);

    expect(plugin.runtime!.outbox.get(id)?.attempts[0]?.errorClass).toBe('address_not_allowed');
    expect(relay.requests).toHaveLength(0);
  });

  it('holds no timer once nothing is pending', async () => {
    const plugin = await start();
    await plugin.hooks['connect:confirmed'](outcome());
    await relay.waitForRequests(1);
    await waitFor(() => plugin.runtime!.outbox.pendingCount === 0);
    await waitFor(() => plugin.runtime!.status().inFlight === 0);

    expect(plugin.runtime!.status()).toMatchObject({ pending: 0, timerArmed: false, inFlight: 0 });
  });

  it('resends a waiting event on the next start', async () => {
    let calls = 0;
    relay.setHandler((_request, response) => {
      calls += 1;
      const headers = calls === 1 ? { 'retry-after': '600' } : {};
      response.writeHead(calls === 1 ? 503 : 200, headers).end();
    });
    const slowRetry = makeHost({
      config: { retry: { initialDelayMs: 100, maxDelayMs: 3_600_000, maxAgeHours: 72 } },
    });
    const first = await start(slowRetry);
    const result = await first.hooks['connect:confirmed'](outcome());
    const id = result.queued ? result.eventId : '';
    await waitFor(() => first.runtime!.outbox.get(id)?.attemptCount === 1);
    expect(first.runtime!.outbox.get(id)!.nextAt - Date.now()).toBeGreaterThan(500_000);
    await first.deactivate();

    const second = await start(slowRetry);
    await waitFor(() => second.runtime!.outbox.get(id)?.state === 'delivered');
    expect(relay.requests).toHaveLength(2);
  });

  it('compacts the journal while a paused relay waits', async () => {
    const host = makeHost({
      config: {
        relays: {
          acme: { callbackUrl: relay.url },
          held: { callbackUrl: relay.url, paused: true },
        },
      },
    });
    const plugin = await activate(host, { limits: { burst: 10_000, perMinute: 10_000 } });
    plugins.push(plugin);
    await plugin.hooks['connect:confirmed'](outcome({ relay: 'held' }));

    for (let batch = 0; batch < 25; batch += 1) {
      await Promise.all(
        Array.from({ length: 100 }, () => plugin.hooks['connect:confirmed'](outcome())),
      );
    }

    // 2,500 delivered events leave 1,000 after a compaction, and the held event stays pending.
    await waitFor(() => plugin.runtime!.outbox.size <= 1001, 20_000);
    expect(plugin.runtime!.outbox.pendingCount).toBe(1);
    expect(relay.requests.length).toBe(2500);
  });

  it('drains the backlog at once when the relay recovers', async () => {
    let up = false;
    relay.setHandler((_request, response) => {
      response.writeHead(up ? 200 : 503).end();
    });
    const plugin = await start(
      makeHost({
        config: { retry: { initialDelayMs: 60_000, maxDelayMs: 600_000, maxAgeHours: 72 } },
      }),
    );

    for (let index = 0; index < 5; index += 1) {
      await plugin.hooks['connect:confirmed'](outcome());
    }

    await relay.waitForRequests(1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(relay.requests).toHaveLength(1);

    up = true;
    plugin.wake('network online');
    await waitFor(() => plugin.runtime!.outbox.pendingCount === 0);
    expect(new Set(relay.requests.map((request) => request.headers['webhook-id'])).size).toBe(5);
  });
});

describe('lifecycle', () => {
  it('delivers a pending event after a restart', async () => {
    relay.setHandler((_request, response) => {
      response.writeHead(503).end();
    });
    const first = await start();
    const result = await first.hooks['connect:confirmed'](outcome());
    await relay.waitForRequests(1);
    await first.deactivate();

    relay.setHandler((_request, response) => {
      response.writeHead(200).end();
    });
    const second = await start();
    const id = result.queued ? result.eventId : '';
    await waitFor(() => second.runtime!.outbox.get(id)?.state === 'delivered');
    expect(relay.requests.at(-1)!.headers['webhook-id']).toBe(id);
  });

  it('deactivates within seconds while a request hangs', async () => {
    relay.setHandler(() => undefined);
    const plugin = await start(
      makeHost({
        config: {
          network: {
            allowPrivateAddresses: true,
            extraCaCertificates: [relay.ca],
            timeoutMs: 60_000,
          },
        },
      }),
    );
    await plugin.hooks['connect:confirmed'](outcome());
    await relay.waitForRequests(1);

    const started = Date.now();
    await plugin.deactivate();
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('answers unavailable when the data folder is not usable', async () => {
    const file = path.join(dataDir, 'not-a-folder');
    await fs.writeFile(file, 'x');
    const plugin = await start({ ...makeHost(), dataDir: file });
    const result = await plugin.hooks['connect:confirmed'](outcome());
    expect(result).toMatchObject({ queued: false, reason: 'unavailable' });
  });

  it('answers unavailable for a non-ASCII app version', async () => {
    const plugin = await start({ ...makeHost(), app: { version: '1.6.0-β', platform: 'linux' } });
    const result = await plugin.hooks['connect:confirmed'](outcome());

    expect(result).toMatchObject({ queued: false, reason: 'unavailable' });
    expect(result.queued ? '' : result.message).toContain('app.version');
  });

  it('answers unavailable for a host without a data folder', async () => {
    const plugin = await start({ app: { version: '1', platform: 'linux' } } as LimeHost);
    const result = await plugin.hooks['connect:cancelled'](outcome());
    expect(result).toMatchObject({ queued: false, reason: 'unavailable' });
    expect(result.queued ? '' : result.message).toContain('dataDir');
  });
});
