import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConnectWebhook, RuntimeOptions } from '../connect-webhook.js';
import type { LimeHost } from '../host.js';
import { PanelService } from '../panel/panel-service.js';
import type { ElectronApi, PanelWindow } from './electron-api.js';
import { registerPanelIpc } from './panel-ipc.js';
import { createPanelWindow } from './panel-window.js';
import { createSafeStorageCodec } from './safe-storage-codec.js';
import { createSessionProxyResolver } from './session-proxy-resolver.js';
import { registerWakeTriggers } from './wake-triggers.js';

export interface ElectronIntegration {
  /** Opens the panel window, or focuses it when it is open already. */
  openPanel(): Promise<void>;
  /** Closes the window and removes every IPC handler, listener and timer registered here. */
  dispose(): void;
}

/** Folder of the built panel, beside the built plugin entry (dist/plugin → dist/panel). */
export function defaultPanelDir(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'panel');
}

/** Runtime options that only Electron provides: the system proxy and safeStorage encryption. */
export function electronRuntimeOptions(
  electron: ElectronApi,
): Pick<RuntimeOptions, 'resolveProxy' | 'secretCodec'> {
  const secretCodec = createSafeStorageCodec(electron);
  return {
    resolveProxy: createSessionProxyResolver(electron.session.defaultSession),
    ...(secretCodec === undefined ? {} : { secretCodec }),
  };
}

/**
 * Connects a running plugin to Electron: wakes the outbox on system resume and when the network
 * comes back, and serves the panel window over IPC.
 */
export function startElectronIntegration(
  electron: ElectronApi,
  runtime: ConnectWebhook,
  options: { app: LimeHost['app']; relays?: LimeHost['relays']; panelDir?: string },
): ElectronIntegration {
  const panelDir = options.panelDir ?? defaultPanelDir();
  const service = new PanelService(runtime, {
    app: options.app,
    ...(options.relays === undefined ? {} : { relays: options.relays }),
  });
  const ipc = registerPanelIpc(electron, service, panelDir);
  const stopWake = registerWakeTriggers(electron, {
    wake: (reason) => runtime.wake(reason),
    pendingCount: () => runtime.outbox.pendingCount,
    subscribe: (listener) => runtime.subscribe(listener),
  });
  let window: PanelWindow | undefined;

  return {
    openPanel: async () => {
      if (window !== undefined && !window.isDestroyed()) {
        window.focus();
        return;
      }

      const opened = createPanelWindow(electron, { panelDir });
      window = opened;
      opened.on('closed', () => {
        if (window === opened) {
          window = undefined;
        }
      });
      ipc.attach(opened);
      await opened.loadFile(path.join(panelDir, 'index.html'));
    },
    dispose: () => {
      ipc.dispose();
      stopWake();

      if (window !== undefined && !window.isDestroyed()) {
        window.close();
      }

      window = undefined;
    },
  };
}
