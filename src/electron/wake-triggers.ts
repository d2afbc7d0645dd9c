import type { ElectronApi } from './electron-api.js';

/** How often the network state is checked while events wait, in milliseconds. */
export const ONLINE_CHECK_INTERVAL_MS = 10_000;

export interface WakeTarget {
  wake(reason: string): void;
  /** Number of events waiting to be sent. */
  pendingCount(): number;
  /** Calls `listener` after the outbox changed; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void;
}

/**
 * Wakes the outbox on system resume and when the network comes back. Electron's main process
 * has no online event, so `net.isOnline()` is polled, but only while events are pending: with
 * nothing to send the plugin keeps no timer. Returns the function that removes both triggers.
 */
export function registerWakeTriggers(
  electron: Pick<ElectronApi, 'powerMonitor' | 'net'>,
  target: WakeTarget,
  intervalMs = ONLINE_CHECK_INTERVAL_MS,
): () => void {
  const onResume = () => target.wake('system resumed');
  let online = electron.net.isOnline();
  let timer: ReturnType<typeof setInterval> | undefined;

  const check = () => {
    const now = electron.net.isOnline();

    if (now && !online) {
      target.wake('network back online');
    }

    online = now;

    if (target.pendingCount() === 0) {
      clearInterval(timer);
      timer = undefined;
    }
  };

  const onOutboxChange = () => {
    if (timer === undefined && target.pendingCount() > 0) {
      online = electron.net.isOnline();
      timer = setInterval(check, intervalMs);
    }
  };

  electron.powerMonitor.on('resume', onResume);
  const unsubscribe = target.subscribe(onOutboxChange);
  onOutboxChange();

  return () => {
    electron.powerMonitor.removeListener('resume', onResume);
    unsubscribe();
    clearInterval(timer);
    timer = undefined;
  };
}
