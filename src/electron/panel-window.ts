import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ElectronApi, PanelWindow } from './electron-api.js';

export interface PanelWindowOptions {
  /** Folder with the built panel: index.html, panel.js, panel.css and preload.cjs. */
  panelDir: string;
  /** Window title; the page sets its own once loaded. */
  title?: string;
}

/**
 * Creates the panel window: context isolation, a sandboxed renderer without Node, the
 * preload bridge as its only way to the plugin, no new windows, and no navigation away from
 * the panel page. The page itself sets a strict content security policy in a meta tag,
 * because a page loaded from a file has no response headers.
 */
export function createPanelWindow(electron: ElectronApi, options: PanelWindowOptions): PanelWindow {
  const window = new electron.BrowserWindow({
    width: 1200,
    height: 800,
    minWidth: 480,
    minHeight: 360,
    title: options.title ?? 'lime-connect-webhook',
    show: false,
    webPreferences: {
      preload: path.join(options.panelDir, 'preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    },
  });
  const pageUrl = pathToFileURL(path.join(options.panelDir, 'index.html')).href;

  window.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  window.webContents.on('will-navigate', (event, url) => {
    if (url !== pageUrl) {
      event.preventDefault();
    }
  });
  window.once('ready-to-show', () => window.show());
  return window;
}

/** True when `frame` is the main frame of `window` showing the panel page from `panelDir`. */
export function isPanelFrame(
  window: PanelWindow | undefined,
  sender: { id: number },
  frame: { url: string } | null,
  panelDir: string,
): boolean {
  if (window === undefined || window.isDestroyed() || sender.id !== window.webContents.id) {
    return false;
  }

  if (frame === null || frame !== window.webContents.mainFrame) {
    return false;
  }

  return frame.url === pathToFileURL(path.join(panelDir, 'index.html')).href;
}
