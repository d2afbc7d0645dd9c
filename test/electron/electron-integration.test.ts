import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { IPC_CHANNELS } from '../../src/electron/ipc-channels.js';
import { SAFE_STORAGE_PREFIX } from '../../src/electron/safe-storage-codec.js';
import { registerWakeTriggers } from '../../src/electron/wake-triggers.js';
import type { LimeHost } from '../../src/host.js';
import { activate, type ConnectWebhookPlugin } from '../../src/plugin.js';
import {
  createFakeElectron,
  FakeBrowserWindow,
  FakeWebContents,
  FakeWebFrame,
  type FakeElectron,
} from '../helpers/fake-electron.js';
import { startTestRelay, type TestRelay } from '../helpers/https-relay.js';

const SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
const KEY = 'sk-live-0123456789abcdefghijklmnopqrstuvwxyz';

let dataDir: string;
let relay: TestRelay;
let electron: FakeElectron;
const plugins: ConnectWebhookPlugin[] = [];
const errors: string[] = [];

beforeEach(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'electron-integration-'));
  relay = await startTestRelay();
  electron = createFakeElectron();
  FakeBrowserWindow.instances.length = 0;
  errors.length = 0;
});

afterEach(async () => {
  await Promise.all(plugins.splice(0).map((plugin) => plugin.deactivate()));
  await relay.close();
  await fs.rm(dataDir, { recursive: true, force: true });
});

function host(config: Record<string, unknown> = {}): LimeHost {
  return {
    dataDir,
    app: { version: '1.6.0', platform: 'darwin', locale: 'zh-CN' },
    config: {
      relays: { acme: { callbackUrl: relay.url, secret: SECRET } },
      retry: { initialDelayMs: 100, maxDelayMs: 2000, maxAgeHours: 72 },
      network: { allowPrivateAddresses: true, extraCaCertificates: [relay.ca], timeoutMs: 1000 },
      ...config,
    },
    log: {
      debug: () => undefined,
      info: () => undefined,
      warn: () => undefined,
      error: (...args: unknown[]) => errors.push(args.map((arg) => JSON.stringify(arg)).join(' ')),
    },
  };
}

async function start(): Promise<ConnectWebhookPlugin> {
  const plugin = await activate(host(), { electron });
  plugins.push(plugin);
  return plugin;
}

async function openWindow(plugin: ConnectWebhookPlugin): Promise<FakeBrowserWindow> {
  expect(await plugin.openPanel()).toBe(true);
  const window = FakeBrowserWindow.instances.at(-1);
  expect(window).toBeDefined();
  return window!;
}

function call(window: FakeBrowserWindow, method: string, ...args: unknown[]): Promise<unknown> {
  return electron.ipcMain.invoke(
    IPC_CHANNELS.call,
    window.webContents,
    window.webContents.mainFrame,
    method,
    args,
  );
}

describe('panel window', () => {
  it('isolates and sandboxes the renderer', async () => {
    const window = await openWindow(await start());
    const preferences = window.options.webPreferences!;

    expect(preferences.contextIsolation).toBe(true);
    expect(preferences.sandbox).toBe(true);
    expect(preferences.nodeIntegration).toBe(false);
    expect(path.basename(preferences.preload!)).toBe('preload.cjs');
    expect(window.webContents.mainFrame.url).toMatch(/\/panel\/index\.html$/);
    expect(window.visible).toBe(true);
  });

  it('denies new windows and foreign navigation', async () => {
    const window = await openWindow(await start());

    expect(window.webContents.windowOpenHandler?.({ url: 'https://example.com/' })).toEqual({
      action: 'deny',
    });
    expect(window.webContents.tryNavigate('https://example.com/')).toBe(true);
    expect(window.webContents.tryNavigate(window.webContents.mainFrame.url)).toBe(false);
  });

  it('focuses the open window instead of a second one', async () => {
    const plugin = await start();
    const window = await openWindow(plugin);
    await plugin.openPanel();

    expect(FakeBrowserWindow.instances).toHaveLength(1);
    expect(window.focused).toBe(true);
  });

  it('returns false from openPanel outside Electron', async () => {
    const plugin = await activate(host());
    plugins.push(plugin);

    expect(await plugin.openPanel()).toBe(false);
  });
});

describe('panel IPC', () => {
  it('answers bridge calls from the panel window', async () => {
    const plugin = await start();
    const window = await openWindow(plugin);
    await plugin.hooks['connect:confirmed']({ relay: 'acme', key: KEY, ref: 'spring' });
    const page = (await call(window, 'listEvents', {})) as { rows: Array<{ ref: string }> };
    const info = (await call(window, 'info')) as { locale: string };

    expect(page.rows.map((row) => row.ref)).toEqual(['spring']);
    expect(info.locale).toBe('zh-CN');
  });

  it('rejects calls from another web contents', async () => {
    const window = await openWindow(await start());
    const stranger = new FakeWebContents();
    stranger.mainFrame.url = window.webContents.mainFrame.url;

    await expect(
      electron.ipcMain.invoke(IPC_CHANNELS.call, stranger, stranger.mainFrame, 'info', []),
    ).rejects.toThrow('accepted only from its own window');
  });

  it('rejects calls from a subframe', async () => {
    const window = await openWindow(await start());
    const frame = new FakeWebFrame();
    frame.url = window.webContents.mainFrame.url;

    await expect(
      electron.ipcMain.invoke(IPC_CHANNELS.call, window.webContents, frame, 'info', []),
    ).rejects.toThrow('accepted only from its own window');
  });

  it('rejects calls from a page navigated elsewhere', async () => {
    const window = await openWindow(await start());
    window.webContents.mainFrame.url = pathToFileURL('/tmp/other.html').href;

    await expect(call(window, 'info')).rejects.toThrow('accepted only from its own window');
  });

  it('rejects arguments that fail the schema', async () => {
    const window = await openWindow(await start());

    await expect(call(window, 'retryNow', 42)).rejects.toThrow('retryNow: invalid argument 0');
    await expect(call(window, 'eval', 'x')).rejects.toThrow('unknown panel method: eval');
  });

  it('notifies the window after an event changes', async () => {
    const plugin = await start();
    const window = await openWindow(plugin);
    await plugin.hooks['connect:cancelled']({ relay: 'acme', key: KEY });

    await expect
      .poll(() => window.webContents.sent.some((sent) => sent.channel === IPC_CHANNELS.changed))
      .toBe(true);
  });
});

describe('wake triggers', () => {
  it('wakes the outbox on system resume', async () => {
    const plugin = await start();
    const wake = vi.spyOn(plugin.runtime!, 'wake');
    electron.powerMonitor.emit('resume');

    expect(wake).toHaveBeenCalledWith('system resumed');
  });

  it('wakes the outbox when the network comes back', async () => {
    const events = new EventEmitter();
    let pending = 1;
    const reasons: string[] = [];
    electron.net.online = false;
    const stop = registerWakeTriggers(
      electron,
      {
        wake: (reason) => reasons.push(reason),
        pendingCount: () => pending,
        subscribe: (listener) => {
          events.on('change', listener);
          return () => events.off('change', listener);
        },
      },
      10,
    );
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(reasons).toEqual([]);
    electron.net.online = true;
    await expect.poll(() => reasons).toEqual(['network back online']);

    pending = 0;
    await new Promise((resolve) => setTimeout(resolve, 30));
    electron.net.online = false;
    await new Promise((resolve) => setTimeout(resolve, 30));
    electron.net.online = true;
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(reasons).toEqual(['network back online']);
    stop();
  });

  it('holds no timer while nothing is pending', async () => {
    const reasons: string[] = [];
    electron.net.online = false;
    const stop = registerWakeTriggers(
      electron,
      {
        wake: (reason) => reasons.push(reason),
        pendingCount: () => 0,
        subscribe: () => () => undefined,
      },
      10,
    );
    electron.net.online = true;
    await new Promise((resolve) => setTimeout(resolve, 50));

    expect(reasons).toEqual([]);
    stop();
  });
});

describe('safeStorage', () => {
  it('encrypts signing secrets at rest', async () => {
    const plugin = await start();
    const settings = plugin.runtime!.settings.get();
    // A secret that only the saved file holds, so the reopened value must come from decrypting it.
    const savedSecret = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;
    const relays = { acme: { ...settings.relays.acme, secret: savedSecret } };
    expect(plugin.runtime!.settings.update({ ...settings, relays }).ok).toBe(true);
    const file = await fs.readFile(plugin.runtime!.settings.filePath, 'utf8');

    expect(file).not.toContain(savedSecret);
    expect(file).toContain(SAFE_STORAGE_PREFIX);
    await plugin.deactivate();

    const reopened = await start();
    expect(reopened.runtime!.settings.get().relays.acme?.secret).toBe(savedSecret);
  });

  it('drops a secret that cannot be decrypted', async () => {
    const plugin = await start();
    expect(plugin.runtime!.settings.update(plugin.runtime!.settings.get()).ok).toBe(true);
    await plugin.deactivate();
    const file = plugin.runtime!.settings.filePath;
    const stored = JSON.parse(await fs.readFile(file, 'utf8')) as {
      settings: { relays: { acme: { secret: string } } };
    };
    stored.settings.relays.acme.secret = `${SAFE_STORAGE_PREFIX}${Buffer.from('garbage').toString('base64')}`;
    await fs.writeFile(file, JSON.stringify(stored));

    const reopened = await activate(host(), { electron });
    plugins.push(reopened);

    expect(reopened.runtime!.settings.get().relays.acme?.secret).toBeUndefined();
    expect(errors.join('\n')).toContain('could not be decrypted');
  });

  it('keeps secrets plain when encryption is unavailable', async () => {
    electron.safeStorage.available = false;
    const plugin = await start();
    expect(plugin.runtime!.settings.update(plugin.runtime!.settings.get()).ok).toBe(true);
    const file = await fs.readFile(plugin.runtime!.settings.filePath, 'utf8');

    expect(file).toContain(SECRET);
  });
});

describe('deactivate', () => {
  it('removes every handler, listener and window', async () => {
    const plugin = await start();
    const window = await openWindow(plugin);
    expect(electron.ipcMain.handlers.size).toBe(1);
    expect(electron.powerMonitor.listenerCount('resume')).toBe(1);

    await plugin.deactivate();

    expect(electron.ipcMain.handlers.size).toBe(0);
    expect(electron.powerMonitor.listenerCount('resume')).toBe(0);
    expect(window.isDestroyed()).toBe(true);
  });

  it('allows activating again in the same process', async () => {
    const first = await start();
    await first.deactivate();
    const second = await start();

    expect(await second.openPanel()).toBe(true);
  });
});
