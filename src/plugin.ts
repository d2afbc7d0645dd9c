import path from 'node:path';
import type { OutcomeKind } from './connect/build-callback.js';
import { ConnectWebhook, type RuntimeOptions } from './connect-webhook.js';
import type { ActivatedPlugin, ConnectOutcome, HookResult, LimeHost } from './host.js';
import { CLIENT_VERSION_PATTERN } from './connect/payload-schema.js';
import { createLogger } from './logger.js';
import { describeError } from './outbox/scheduler.js';
import type { ElectronApi } from './electron/electron-api.js';
import type { ElectronIntegration } from './electron/electron-integration.js';

/** The activated plugin: Lime's contract, plus a wake call and the runtime for the panel. */
export interface ConnectWebhookPlugin extends ActivatedPlugin {
  /** Tries every relay now; hosts call it when the network comes back or the system resumes. */
  wake(reason?: string): void;
  /** The running plugin, or undefined when activation failed (see the host log). */
  runtime: ConnectWebhook | undefined;
  /**
   * Opens the debug panel window inside Lime (Electron). Resolves false in plain Node, where
   * the development host serves the panel instead.
   */
  openPanel(): Promise<boolean>;
}

export interface ActivateOptions extends RuntimeOptions {
  /**
   * The `electron` module. Default: loaded when `process.versions.electron` is set; tests pass
   * a fake.
   */
  electron?: ElectronApi;
}

/**
 * Starts the plugin: opens the outbox in `host.dataDir`, delivers what is pending, and returns
 * the three Connect hooks. Never rejects: when the data folder cannot be used, the hooks
 * answer `{ queued: false, reason: "unavailable" }` with the cause, and the host log has it.
 */
export async function activate(
  host: LimeHost,
  activateOptions: ActivateOptions = {},
): Promise<ConnectWebhookPlugin> {
  const { electron: givenElectron, ...runtimeOptions } = activateOptions;
  const logger = createLogger(readLogger(host));
  const problem = checkHost(host);

  if (problem !== undefined) {
    logger.error(`cannot activate: ${problem}`);
    return unavailablePlugin(`the host passed an invalid ${problem}`);
  }

  let runtime: ConnectWebhook;
  const electron = givenElectron ?? (await loadElectron());
  // The Electron layer (panel window, IPC, wake-ups) is loaded only inside Electron.
  const electronLayer =
    electron === undefined ? undefined : await import('./electron/electron-integration.js');
  const options: RuntimeOptions =
    electron === undefined || electronLayer === undefined
      ? runtimeOptions
      : { ...electronLayer.electronRuntimeOptions(electron), ...runtimeOptions };

  try {
    runtime = await ConnectWebhook.start(host, options);
  } catch (error) {
    logger.error('cannot activate: the data folder could not be opened', {
      dataDir: host.dataDir,
      error: describeError(error),
    });
    return unavailablePlugin(
      `the outbox in ${host.dataDir} could not be opened: ${describeError(error)}`,
    );
  }

  const hook =
    (kind: OutcomeKind) =>
    async (outcome: ConnectOutcome): Promise<HookResult> => {
      try {
        return await runtime.handleOutcome(kind, outcome);
      } catch (error) {
        // Only an I/O failure gets here (disk full, folder removed): nothing was accepted.
        runtime.logger.error('could not queue an outcome', { kind, error: describeError(error) });
        return {
          queued: false,
          reason: 'unavailable',
          message: `the outbox could not be written: ${describeError(error)}`,
        };
      }
    };

  const integration: ElectronIntegration | undefined =
    electron === undefined || electronLayer === undefined
      ? undefined
      : electronLayer.startElectronIntegration(electron, runtime, {
          app: host.app,
          relays: host.relays,
        });

  return {
    hooks: {
      'connect:confirmed': hook('confirmed'),
      'connect:cancelled': hook('cancelled'),
      'connect:failed': hook('failed'),
    },
    deactivate: async () => {
      try {
        integration?.dispose();
        await runtime.stop();
      } catch (error) {
        runtime.logger.error('deactivation failed', { error: describeError(error) });
      }
    },
    wake: (reason = 'host request') => runtime.wake(reason),
    runtime,
    openPanel: async () => {
      if (integration === undefined) {
        return false;
      }

      await integration.openPanel();
      return true;
    },
  };
}

/** Loads `electron` inside Electron only; the build maps it to a stand-in elsewhere. */
async function loadElectron(): Promise<ElectronApi | undefined> {
  if (process.versions.electron === undefined) {
    return undefined;
  }

  const module = (await import('electron')) as unknown as { default?: ElectronApi };
  return module.default ?? (module as unknown as ElectronApi);
}

function unavailablePlugin(message: string): ConnectWebhookPlugin {
  const answer = async (): Promise<HookResult> => ({
    queued: false,
    reason: 'unavailable',
    message,
  });
  return {
    hooks: { 'connect:confirmed': answer, 'connect:cancelled': answer, 'connect:failed': answer },
    deactivate: async () => undefined,
    wake: () => undefined,
    runtime: undefined,
    openPanel: async () => false,
  };
}

/** Returns the name and problem of the first invalid host field, or undefined. */
function checkHost(host: unknown): string | undefined {
  if (typeof host !== 'object' || host === null) {
    return 'host object: expected an object';
  }

  const { dataDir, app } = host as Partial<LimeHost>;

  if (typeof dataDir !== 'string' || !path.isAbsolute(dataDir)) {
    return 'dataDir: expected an absolute path';
  }

  if (typeof app !== 'object' || app === null) {
    return 'app: expected an object with version and platform';
  }

  // The version goes into the User-Agent header and the payload, so it must be header-safe.
  if (typeof app.version !== 'string' || !CLIENT_VERSION_PATTERN.test(app.version)) {
    return 'app.version: expected 1 to 64 printable ASCII characters';
  }

  if (typeof app.platform !== 'string' || app.platform.length === 0) {
    return 'app.platform: expected a non-empty string';
  }

  return undefined;
}

function readLogger(host: unknown): LimeHost['log'] {
  const log =
    typeof host === 'object' && host !== null ? (host as Partial<LimeHost>).log : undefined;
  return typeof log === 'object' && log !== null && typeof log.error === 'function'
    ? log
    : undefined;
}
