import type { PanelBridge } from '../panel/bridge.js';
import { dispatchBridgeCall } from '../panel/bridge-schemas.js';
import type { ElectronApi, PanelWindow } from './electron-api.js';
import { IPC_CHANNELS } from './ipc-channels.js';
import { isPanelFrame } from './panel-window.js';

/** Maximum delay of a change notice to the panel window, in milliseconds. */
const CHANGE_THROTTLE_MS = 100;

export interface PanelIpc {
  /** Sends change notices to this window from now on; the last window given wins. */
  attach(window: PanelWindow): void;
  dispose(): void;
}

/**
 * Handles the panel window's bridge calls on one invoke channel. A call is run only when it
 * comes from the main frame of the plugin's own panel window showing the panel page, and only
 * after its arguments pass the bridge schemas; anything else is rejected with an error.
 */
export function registerPanelIpc(
  electron: Pick<ElectronApi, 'ipcMain'>,
  bridge: PanelBridge,
  panelDir: string,
): PanelIpc {
  let window: PanelWindow | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;

  electron.ipcMain.handle(IPC_CHANNELS.call, async (event, method: unknown, args: unknown) => {
    if (!isPanelFrame(window, event.sender, event.senderFrame, panelDir)) {
      throw new Error('lime-connect-webhook: panel calls are accepted only from its own window');
    }

    return dispatchBridgeCall(bridge, method, args);
  });

  const unsubscribe = bridge.subscribe(() => {
    timer ??= setTimeout(() => {
      timer = undefined;

      if (window !== undefined && !window.isDestroyed() && !window.webContents.isDestroyed()) {
        window.webContents.send(IPC_CHANNELS.changed);
      }
    }, CHANGE_THROTTLE_MS);
  });

  return {
    attach: (next) => {
      window = next;
      next.on('closed', () => {
        if (window === next) {
          window = undefined;
        }
      });
    },
    dispose: () => {
      electron.ipcMain.removeHandler(IPC_CHANNELS.call);
      unsubscribe();
      clearTimeout(timer);
      window = undefined;
    },
  };
}
