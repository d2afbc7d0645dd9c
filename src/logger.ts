import type { LimeLogger } from './host.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface PluginLogger {
  debug(message: string, details?: Record<string, unknown>): void;
  info(message: string, details?: Record<string, unknown>): void;
  warn(message: string, details?: Record<string, unknown>): void;
  error(message: string, details?: Record<string, unknown>): void;
}

const TAG = '[connect-webhook]';

/**
 * Tags every message and sends it to the host's logger; without one, messages are dropped
 * rather than written to the console of an app that did not ask for them. A throwing host
 * logger never breaks delivery.
 */
export function createLogger(
  host: LimeLogger | undefined,
  extraSink?: (level: LogLevel, message: string, details?: Record<string, unknown>) => void,
): PluginLogger {
  const write = (level: LogLevel, message: string, details?: Record<string, unknown>): void => {
    try {
      extraSink?.(level, message, details);

      if (details === undefined) {
        host?.[level](`${TAG} ${message}`);
      } else {
        host?.[level](`${TAG} ${message}`, details);
      }
    } catch {
      // The host's logger failed; there is nowhere else to report that without risking a loop.
    }
  };

  return {
    debug: (message, details) => write('debug', message, details),
    info: (message, details) => write('info', message, details),
    warn: (message, details) => write('warn', message, details),
    error: (message, details) => write('error', message, details),
  };
}
