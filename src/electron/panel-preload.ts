/**
 * Preload script of the panel window. It runs sandboxed with context isolation and exposes one
 * narrow object, `window.limePanel`, instead of ipcRenderer itself, so the page can only call
 * the panel bridge and hear change notices.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { IPC_CHANNELS } from './ipc-channels.js';

contextBridge.exposeInMainWorld('limePanel', {
  call: (method: string, args: unknown[]) => ipcRenderer.invoke(IPC_CHANNELS.call, method, args),
  onChange: (listener: () => void) => {
    const handler = () => listener();
    ipcRenderer.on(IPC_CHANNELS.changed, handler);
    return () => {
      ipcRenderer.removeListener(IPC_CHANNELS.changed, handler);
    };
  },
});
