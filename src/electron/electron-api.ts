import type { BrowserWindow, BrowserWindowConstructorOptions } from 'electron';

/**
 * The parts of the `electron` module this plugin uses, typed from Electron's own declarations,
 * so that the real module and the test fake (test/helpers/fake-electron.ts) both fit.
 */
export interface ElectronApi {
  BrowserWindow: new (options: BrowserWindowConstructorOptions) => PanelWindow;
  ipcMain: Pick<Electron.IpcMain, 'handle' | 'removeHandler'>;
  powerMonitor: Pick<Electron.PowerMonitor, 'on' | 'removeListener'>;
  net: Pick<Electron.Net, 'isOnline'>;
  session: { defaultSession: Pick<Electron.Session, 'resolveProxy'> };
  safeStorage: Pick<
    Electron.SafeStorage,
    'isEncryptionAvailable' | 'encryptString' | 'decryptString'
  >;
}

/** The window methods the panel uses. */
export type PanelWindow = Pick<
  BrowserWindow,
  'loadFile' | 'show' | 'focus' | 'close' | 'isDestroyed' | 'on' | 'once'
> & {
  webContents: Pick<
    Electron.WebContents,
    'id' | 'mainFrame' | 'send' | 'setWindowOpenHandler' | 'on' | 'isDestroyed'
  >;
};
