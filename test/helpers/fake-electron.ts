import { EventEmitter } from 'node:events';
import { pathToFileURL } from 'node:url';
import type { BrowserWindowConstructorOptions } from 'electron';
import type { ElectronApi } from '../../src/electron/electron-api.js';

/**
 * A stand-in for the parts of the `electron` module the plugin uses, with the method names and
 * event semantics of Electron 45's electron.d.ts. For example, ipcMain.handle rejects a second
 * handler for one channel, and `loadFile` navigates the main frame and emits `ready-to-show`.
 * `close` emits `closed` and destroys the window. safeStorage.decryptString throws on text it
 * did not encrypt. No Electron binary runs in the test suite, so tests run against this fake.
 */

let nextWebContentsId = 1;

export class FakeWebFrame {
  url = '';
}

export class FakeWebContents extends EventEmitter {
  readonly id = nextWebContentsId++;
  readonly mainFrame = new FakeWebFrame();
  readonly sent: Array<{ channel: string; args: unknown[] }> = [];
  windowOpenHandler: ((details: { url: string }) => { action: 'allow' | 'deny' }) | undefined;
  private destroyed = false;

  send(channel: string, ...args: unknown[]): void {
    if (this.destroyed) {
      throw new Error('Object has been destroyed');
    }

    this.sent.push({ channel, args });
  }

  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'allow' | 'deny' }): void {
    this.windowOpenHandler = handler;
  }

  isDestroyed(): boolean {
    return this.destroyed;
  }

  destroy(): void {
    this.destroyed = true;
  }

  /** Emits `will-navigate` as a link click would; returns true when a listener prevented it. */
  tryNavigate(url: string): boolean {
    let prevented = false;
    this.emit('will-navigate', { preventDefault: () => (prevented = true), url }, url);
    return prevented;
  }
}

export class FakeBrowserWindow extends EventEmitter {
  static readonly instances: FakeBrowserWindow[] = [];
  readonly options: BrowserWindowConstructorOptions;
  readonly webContents = new FakeWebContents();
  visible = false;
  focused = false;
  private destroyed = false;

  constructor(options: BrowserWindowConstructorOptions) {
    super();
    this.options = options;
    FakeBrowserWindow.instances.push(this);
  }

  async loadFile(filePath: string): Promise<void> {
    this.webContents.mainFrame.url = pathToFileURL(filePath).href;
    this.emit('ready-to-show');
  }

  show(): void {
    this.visible = true;
  }

  focus(): void {
    this.focused = true;
  }

  close(): void {
    if (this.destroyed) {
      return;
    }

    this.emit('close', { preventDefault: () => undefined });
    this.destroyed = true;
    this.webContents.destroy();
    this.emit('closed');
  }

  isDestroyed(): boolean {
    return this.destroyed;
  }
}

type InvokeListener = (event: unknown, ...args: unknown[]) => unknown;

export class FakeIpcMain {
  readonly handlers = new Map<string, InvokeListener>();

  handle(channel: string, listener: InvokeListener): void {
    if (this.handlers.has(channel)) {
      throw new Error(`Attempted to register a second handler for '${channel}'`);
    }

    this.handlers.set(channel, listener);
  }

  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }

  /**
   * Calls the handler as `ipcRenderer.invoke` from `sender` would: the result, or a rejection
   * with the handler's error, like Electron's "Error invoking remote method".
   */
  async invoke(
    channel: string,
    sender: FakeWebContents,
    frame: FakeWebFrame | null,
    ...args: unknown[]
  ): Promise<unknown> {
    const handler = this.handlers.get(channel);

    if (handler === undefined) {
      throw new Error(`No handler registered for '${channel}'`);
    }

    return handler({ sender, senderFrame: frame, processId: 1, frameId: 1 }, ...args);
  }
}

export class FakeSafeStorage {
  available = true;
  private static readonly MARK = 'fake-os-encrypted:';

  isEncryptionAvailable(): boolean {
    return this.available;
  }

  encryptString(plainText: string): Buffer {
    if (!this.available) {
      throw new Error('Encryption is not available.');
    }

    const reversed = [...Buffer.from(plainText, 'utf8')].reverse();
    return Buffer.concat([Buffer.from(FakeSafeStorage.MARK), Buffer.from(reversed)]);
  }

  decryptString(encrypted: Buffer): string {
    const mark = Buffer.from(FakeSafeStorage.MARK);

    if (!encrypted.subarray(0, mark.length).equals(mark)) {
      throw new Error(
        'Error while decrypting the ciphertext provided to safeStorage.decryptString.',
      );
    }

    return Buffer.from([...encrypted.subarray(mark.length)].reverse()).toString('utf8');
  }
}

export interface FakeElectron extends ElectronApi {
  BrowserWindow: typeof FakeBrowserWindow & ElectronApi['BrowserWindow'];
  ipcMain: FakeIpcMain & ElectronApi['ipcMain'];
  powerMonitor: EventEmitter & ElectronApi['powerMonitor'];
  net: { online: boolean; isOnline(): boolean };
  session: { defaultSession: { pacResult: string; resolveProxy(url: string): Promise<string> } };
  safeStorage: FakeSafeStorage;
  app: { whenReady(): Promise<void>; isReady(): boolean };
}

/** Creates a fresh fake `electron` module; BrowserWindow.instances is shared, clear it per test. */
export function createFakeElectron(): FakeElectron {
  const net = {
    online: true,
    isOnline(): boolean {
      return this.online;
    },
  };
  const defaultSession = {
    pacResult: 'DIRECT',
    resolveProxy(_url: string): Promise<string> {
      return Promise.resolve(this.pacResult);
    },
  };
  return {
    BrowserWindow: FakeBrowserWindow as FakeElectron['BrowserWindow'],
    ipcMain: new FakeIpcMain() as FakeElectron['ipcMain'],
    powerMonitor: new EventEmitter() as FakeElectron['powerMonitor'],
    net,
    session: { defaultSession },
    safeStorage: new FakeSafeStorage(),
    app: { whenReady: () => Promise.resolve(), isReady: () => true },
  };
}
