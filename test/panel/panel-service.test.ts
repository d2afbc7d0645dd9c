import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConnectWebhook, OutboxEvent } from '../../src/connect-webhook.js';
import type { LimeHost } from '../../src/host.js';
import { dispatchBridgeCall } from '../../src/panel/bridge-schemas.js';
import { PanelService } from '../../src/panel/panel-service.js';
import { activate, type ConnectWebhookPlugin } from '../../src/plugin.js';
import { DEFAULT_SETTINGS } from '../../src/settings/settings-schema.js';
import { startTestRelay, type TestRelay } from '../helpers/https-relay.js';

const SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
const KEY = 'sk-live-0123456789abcdefghijklmnopqrstuvwxyz';
const APP = { version: '1.6.0', platform: 'linux', locale: 'en' };

let dataDir: string;
let relay: TestRelay;
let plugin: ConnectWebhookPlugin | undefined;

beforeEach(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'panel-service-'));
  relay = await startTestRelay();
});

afterEach(async () => {
  await plugin?.deactivate();
  plugin = undefined;
  await relay.close();
  await fs.rm(dataDir, { recursive: true, force: true });
});

async function startService(relays: Record<string, unknown> = {}): Promise<PanelService> {
  const host: LimeHost = {
    dataDir,
    app: APP,
    config: {
      relays: { acme: { callbackUrl: relay.url, secret: SECRET }, ...relays },
      retry: { initialDelayMs: 100, maxDelayMs: 2000, maxAgeHours: 72 },
      network: { allowPrivateAddresses: true, extraCaCertificates: [relay.ca], timeoutMs: 1000 },
    },
    relays: { get: (id) => (id === 'registered' ? { id } : undefined) },
  };
  plugin = await activate(host);
  return new PanelService(plugin.runtime!, { app: APP, relays: host.relays });
}

function fakeEvent(index: number, overrides: Partial<OutboxEvent> = {}): OutboxEvent {
  const states = ['pending', 'delivered', 'dead', 'skipped'] as const;
  return {
    id: `event-${String(index).padStart(5, '0')}`,
    relay: index % 2 === 0 ? 'acme' : 'other',
    ref: `campaign-${index % 10}`,
    status: 'success',
    occurredAt: 1_000_000 + index,
    queuedAt: 1_000_000 + index,
    body: '{}',
    state: states[index % 4]!,
    attempts: [],
    attemptCount: 0,
    failures: 0,
    nextAt: 0,
    updatedAt: 0,
    ...overrides,
  };
}

/** Creates a runtime stand-in with only what listEvents reads, over `events`. */
function fakeRuntime(events: OutboxEvent[]): ConnectWebhook {
  return {
    outbox: { events: () => events.values(), get: (id: string) => events.find((e) => e.id === id) },
    settings: { get: () => DEFAULT_SETTINGS },
    nextProbeAt: () => undefined,
    drops: { invalid: 0, rateLimited: {}, outboxFull: 0, duplicate: 0 },
  } as unknown as ConnectWebhook;
}

describe('PanelService.listEvents', () => {
  it('pages 10,000 events newest first within 50 ms', async () => {
    const events = Array.from({ length: 10_000 }, (_, index) => fakeEvent(index));
    const service = new PanelService(fakeRuntime(events), { app: APP });
    await service.listEvents({});
    const started = performance.now();
    const page = await service.listEvents({ offset: 200, limit: 100 });
    const elapsed = performance.now() - started;

    expect(page.total).toBe(10_000);
    expect(page.rows).toHaveLength(100);
    expect(page.rows[0]?.id).toBe('event-09799');
    expect(page.counts.delivered).toBe(2500);
    expect(elapsed).toBeLessThan(50);
  });

  it('filters by status, relay and search', async () => {
    const events = Array.from({ length: 100 }, (_, index) => fakeEvent(index));
    const service = new PanelService(fakeRuntime(events), { app: APP });
    const page = await service.listEvents({
      statuses: ['delivered'],
      relay: 'other',
      search: 'CAMPAIGN-5',
    });

    expect(page.rows.map((row) => row.id)).toEqual([
      'event-00085',
      'event-00065',
      'event-00045',
      'event-00025',
      'event-00005',
    ]);
  });

  it('marks a pending event with attempts as retrying', async () => {
    const events = [fakeEvent(0, { attemptCount: 2, nextAt: 5000 })];
    const service = new PanelService(fakeRuntime(events), { app: APP });
    const [row] = (await service.listEvents({})).rows;

    expect(row?.status).toBe('retrying');
    expect(row?.nextAt).toBe(5000);
  });

  it('marks a due event as waiting for the relay', async () => {
    const events = [
      fakeEvent(0, { attemptCount: 1, nextAt: 5000 }),
      fakeEvent(4, { attemptCount: 1, nextAt: 20_000 }),
    ];
    const service = new PanelService(fakeRuntime(events), { app: APP, now: () => 10_000 });
    const rows = (await service.listEvents({})).rows;

    expect(rows.find((row) => row.id === 'event-00000')?.waiting).toBe('relay');
    expect(rows.find((row) => row.id === 'event-00004')?.waiting).toBeUndefined();
  });

  it('marks events of a paused relay as waiting', async () => {
    const settings = { ...DEFAULT_SETTINGS, relays: { acme: { paused: true } } };
    const runtime = {
      ...fakeRuntime([fakeEvent(0, { nextAt: 20_000 })]),
      settings: { get: () => settings },
    };
    const service = new PanelService(runtime as unknown as ConnectWebhook, {
      app: APP,
      now: () => 10_000,
    });
    const [row] = (await service.listEvents({})).rows;

    expect(row?.waiting).toBe('paused');
  });
});

describe('PanelService settings', () => {
  it('names the field of an http:// URL', async () => {
    const service = await startService();
    const issues = await service.validateSettings({
      relays: { acme: { callbackUrl: 'http://relay.example/hook' } },
    });

    expect(issues).toEqual([
      {
        field: 'relays.acme.callbackUrl',
        message: 'relays.acme.callbackUrl: expected an https:// URL, received http://',
      },
    ]);
  });

  it('names the field of a malformed secret', async () => {
    const service = await startService();
    const issues = await service.validateSettings({
      relays: { acme: { callbackUrl: relay.url, secret: 'whsec_short' } },
    });

    expect(issues.map((issue) => issue.field)).toEqual(['relays.acme.secret']);
  });

  it('names an invalid relay id', async () => {
    const service = await startService();
    const issues = await service.validateSettings({ relays: { 'bad id!': {} } });

    expect(issues[0]?.field).toBe('relays.bad id!');
    expect(issues[0]?.message).toContain('expected a relay id of letters, digits');
  });

  it('names a relay id unknown to the registry', async () => {
    const service = await startService();
    const issues = await service.validateSettings({ relays: { ghost: {}, registered: {} } });

    expect(issues).toEqual([
      {
        field: 'relays.ghost',
        message:
          "relays.ghost: unknown relay id; use an id from Lime's relay registry or set a callbackUrl",
      },
    ]);
  });

  it('reports an unknown relay beside other issues', async () => {
    const service = await startService();
    const issues = await service.validateSettings({
      relays: { acme: { callbackUrl: 'http://x/' }, ghost: {} },
    });

    expect(issues.map((issue) => issue.field)).toEqual(['relays.acme.callbackUrl', 'relays.ghost']);
  });

  it('keeps settings unchanged when saving invalid ones', async () => {
    const service = await startService();
    const result = await service.saveSettings({ relays: { acme: { callbackUrl: 'http://x/' } } });

    expect(result.ok).toBe(false);
    expect(plugin!.runtime!.settings.get().relays.acme?.callbackUrl).toBe(relay.url);
  });

  it('delivers a paused relay once saved settings resume it', async () => {
    const service = await startService();
    const paused = { callbackUrl: relay.url, secret: SECRET, paused: true };
    const settings = plugin!.runtime!.settings.get();
    expect((await service.saveSettings({ ...settings, relays: { acme: paused } })).ok).toBe(true);
    const queued = await plugin!.hooks['connect:confirmed']({ relay: 'acme', key: KEY });
    expect(queued.queued).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(relay.requests).toHaveLength(0);

    const resumed = { ...settings, relays: { acme: { ...paused, paused: false } } };
    expect((await service.saveSettings(resumed)).ok).toBe(true);
    await relay.waitForRequests(1);
  });

  it('sends signing secrets masked', async () => {
    const service = await startService();
    const settings = (await service.getSettings()) as { relays: { acme: { secret: string } } };

    expect(settings.relays.acme.secret).toBe(`whsec_…${SECRET.slice(-4)}`);
    expect(JSON.stringify(settings)).not.toContain(SECRET);
  });

  it('keeps the secret when the mask is saved back', async () => {
    const service = await startService();
    const masked = await service.getSettings();

    expect(await service.validateSettings(masked)).toEqual([]);
    const result = await service.saveSettings(masked);
    expect(result.ok).toBe(true);
    expect(JSON.stringify(result)).not.toContain(SECRET);
    expect(plugin!.runtime!.settings.get().relays.acme?.secret).toBe(SECRET);
  });

  it('stores a new secret typed over the mask', async () => {
    const service = await startService();
    const masked = (await service.getSettings()) as { relays: { acme: object } };
    const secret = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;
    const changed = { ...masked, relays: { acme: { ...masked.relays.acme, secret } } };

    expect((await service.saveSettings(changed)).ok).toBe(true);
    expect(plugin!.runtime!.settings.get().relays.acme?.secret).toBe(secret);
  });

  it('rejects a mask saved under another relay id', async () => {
    const service = await startService();
    const masked = (await service.getSettings()) as { relays: { acme: object } };
    const moved = { ...masked, relays: { registered: masked.relays.acme } };
    const issues = await service.validateSettings(moved);

    expect(issues.map((issue) => issue.field)).toEqual(['relays.registered.secret']);
  });
});

describe('PanelService actions', () => {
  it('shows the body and a shortened signature that matches', async () => {
    const service = await startService();
    const queued = await plugin!.hooks['connect:confirmed']({ relay: 'acme', key: KEY });
    const [request] = await relay.waitForRequests(1);
    const id = queued.queued ? queued.eventId : '';
    await expect.poll(async () => (await service.eventDetail(id))?.row.status).toBe('delivered');
    const detail = (await service.eventDetail(id))!;

    expect(detail.body).toBe(request!.body.toString('utf8'));
    expect(detail.body).toContain('"key_prefix":"sk-live"');
    expect(JSON.stringify(detail)).not.toContain(KEY);
    expect(detail.headers['webhook-signature']).toMatch(/^v1,.{13}…$/);
    expect(String(request!.headers['webhook-signature']).slice(0, 16)).toBe(
      detail.headers['webhook-signature']!.slice(0, 16),
    );
    expect(() =>
      new Webhook(SECRET).verify(request!.body.toString('utf8'), {
        'webhook-id': id,
        'webhook-timestamp': detail.headers['webhook-timestamp']!,
        'webhook-signature': String(request!.headers['webhook-signature']),
      }),
    ).not.toThrow();
    expect(detail.attempts[0]?.httpStatus).toBe(200);
  });

  it('replays only delivered or dead events', async () => {
    const service = await startService();
    relay.setHandler((_request, response) => {
      response.writeHead(503);
      response.end();
    });
    const queued = await plugin!.hooks['connect:confirmed']({ relay: 'acme', key: KEY });
    const id = queued.queued ? queued.eventId : '';
    await relay.waitForRequests(1);

    expect(await service.replay(id)).toEqual({ ok: false, message: 'not_replayable' });
    expect(await service.discard(id)).toEqual({ ok: true, message: 'discarded' });
    expect(await service.eventDetail(id)).toBeUndefined();
  });

  it('exports every event without the key', async () => {
    const service = await startService();
    await plugin!.hooks['connect:cancelled']({ relay: 'acme', key: KEY, ref: 'spring' });
    await relay.waitForRequests(1);
    const exported = await service.exportLog();
    const log = JSON.parse(exported) as { events: Array<{ ref: string; body: string }> };

    expect(log.events).toHaveLength(1);
    expect(log.events[0]?.ref).toBe('spring');
    expect(exported).not.toContain(KEY);
  });

  it('queues a test event that the relay receives', async () => {
    const service = await startService();
    const result = await service.sendTestEvent('acme');
    const [request] = await relay.waitForRequests(1);

    expect(result.ok).toBe(true);
    expect(request?.headers['webhook-id']).toBe(result.eventId);
    expect((await service.listEvents({})).rows[0]?.test).toBe(true);
  });

  it('rejects resuming an unknown relay', async () => {
    const service = await startService();

    expect(await service.resumeRelay('ghost')).toEqual({
      ok: false,
      message: 'unknown_relay',
      relay: 'ghost',
    });
    expect(await service.resumeRelay('acme')).toEqual({ ok: true, message: 'resumed' });
  });

  it('names a pause after 410 Gone apart from a settings pause', async () => {
    const service = await startService();
    relay.setHandler((_request, response) => {
      response.writeHead(410);
      response.end();
    });
    const first = await plugin!.hooks['connect:confirmed']({ relay: 'acme', key: KEY });
    const goneId = first.queued ? first.eventId : '';
    await expect.poll(async () => (await service.eventDetail(goneId))?.row.status).toBe('dead');
    const second = await plugin!.hooks['connect:cancelled']({ relay: 'acme', key: KEY });
    const heldId = second.queued ? second.eventId : '';
    const held = (await service.eventDetail(heldId))!;

    expect((await service.eventDetail(goneId))?.row.reason).toBe('410 Gone: the relay was paused');
    expect(held.target).toMatchObject({ code: 'relay_gone', relay: 'acme' });
    expect(held.row.waiting).toBe('paused');

    const settings = plugin!.runtime!.settings.get();
    await service.resumeRelay('acme');
    const paused = { ...settings.relays.acme, paused: true };
    expect((await service.saveSettings({ ...settings, relays: { acme: paused } })).ok).toBe(true);
    expect((await service.eventDetail(heldId))?.target).toMatchObject({ code: 'relay_paused' });
  });
});

describe('dispatchBridgeCall', () => {
  it('rejects an unknown method', async () => {
    const service = await startService();

    await expect(dispatchBridgeCall(service, 'deleteEverything', [])).rejects.toThrow(
      'unknown panel method: deleteEverything',
    );
  });

  it('rejects arguments that fail their schema', async () => {
    const service = await startService();

    await expect(dispatchBridgeCall(service, 'listEvents', [{ limit: 100_000 }])).rejects.toThrow(
      /listEvents: invalid argument 0\.limit/,
    );
  });
});
