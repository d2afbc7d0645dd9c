import { promises as fs } from 'node:fs';
import path from 'node:path';
import type Conf from 'conf';
import { formatIssue, SettingsSchema, type Settings } from './settings-schema.js';

export type SettingsUpdate =
  { ok: true; settings: Settings } | { ok: false; field: string; message: string };

export interface SettingsStoreLogger {
  warn(message: string, details?: Record<string, unknown>): void;
  error(message: string, details?: Record<string, unknown>): void;
}

type StoreShape = { settings?: unknown };

/** File name of the settings file inside the plugin's data folder. */
export const SETTINGS_FILE_NAME = 'settings.json';

/**
 * The plugin's settings, kept with `electron-store` inside Electron and with `conf`, its base,
 * in plain Node. Settings saved here (from the panel, or a relay paused by `410 Gone`) take
 * precedence over the `config` that Lime's plugin centre passes at activation. Every read and
 * write goes through the zod schema; invalid saved settings are set aside, never half-applied.
 */
export class SettingsStore {
  private readonly store: Conf<StoreShape>;
  private current: Settings;
  private readonly listeners = new Set<(settings: Settings) => void>();

  private constructor(store: Conf<StoreShape>, settings: Settings) {
    this.store = store;
    this.current = settings;
  }

  static async open(
    dataDir: string,
    hostConfig: unknown,
    logger: SettingsStoreLogger,
  ): Promise<SettingsStore> {
    const store = await openBackingStore(dataDir, logger);
    const saved = store.get('settings');
    const source = saved === undefined ? 'host' : 'saved';
    const parsed = SettingsSchema.safeParse(saved ?? hostConfig ?? {});

    if (parsed.success) {
      return new SettingsStore(store, parsed.data);
    }

    const issue = formatIssue(parsed.error);
    logger.error(`invalid ${source} settings; using the defaults until they are corrected`, {
      field: issue.field,
      message: issue.message,
    });
    return new SettingsStore(store, SettingsSchema.parse({}));
  }

  get(): Settings {
    return this.current;
  }

  /** Validates and saves a whole settings object; on error nothing changes. */
  update(input: unknown): SettingsUpdate {
    const parsed = SettingsSchema.safeParse(input);

    if (!parsed.success) {
      const issue = formatIssue(parsed.error);
      return { ok: false, field: issue.field, message: issue.message };
    }

    this.store.set('settings', parsed.data);
    this.current = parsed.data;

    for (const listener of this.listeners) {
      listener(parsed.data);
    }

    return { ok: true, settings: parsed.data };
  }

  /** Pauses or resumes one relay, keeping the rest of its settings. */
  setRelayPaused(relayId: string, paused: boolean): SettingsUpdate {
    const relays = { ...this.current.relays };
    const relay = { ...relays[relayId] };

    if (paused) {
      relay.paused = true;
    } else {
      delete relay.paused;
    }

    relays[relayId] = relay;
    return this.update({ ...this.current, relays });
  }

  onChange(listener: (settings: Settings) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get filePath(): string {
    return this.store.path;
  }
}

async function openBackingStore(
  dataDir: string,
  logger: SettingsStoreLogger,
): Promise<Conf<StoreShape>> {
  const StoreClass = await loadStoreClass();
  const options = {
    cwd: dataDir,
    configName: SETTINGS_FILE_NAME.replace(/\.json$/, ''),
    projectName: 'lime-connect-webhook',
    // Owner-only: the file may hold signing secrets.
    configFileMode: 0o600,
    clearInvalidConfig: false,
  };

  try {
    return new StoreClass(options);
  } catch (error) {
    const filePath = path.join(dataDir, SETTINGS_FILE_NAME);
    const asidePath = `${filePath}.unreadable-${Date.now()}`;
    await fs.rename(filePath, asidePath);
    logger.error('settings file could not be read; moved it aside and started with defaults', {
      movedTo: asidePath,
      error: error instanceof Error ? error.message : String(error),
    });
    return new StoreClass(options);
  }
}

/** `electron-store` needs Electron's `app`; it is imported only when running inside Electron. */
async function loadStoreClass(): Promise<
  new (options: Record<string, unknown>) => Conf<StoreShape>
> {
  if (process.versions.electron !== undefined) {
    const module = await import('electron-store');
    return module.default as unknown as new (options: Record<string, unknown>) => Conf<StoreShape>;
  }

  const module = await import('conf');
  return module.default as unknown as new (options: Record<string, unknown>) => Conf<StoreShape>;
}
