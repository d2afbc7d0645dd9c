import { promises as fs } from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import type Conf from 'conf';
import * as z from 'zod';
import { formatIssue, RELAY_ID_PATTERN, SettingsSchema, type Settings } from './settings-schema.js';
import { decodeSecrets, encodeSecrets, type SecretCodec } from './secret-codec.js';

export type SettingsUpdate =
  { ok: true; settings: Settings } | { ok: false; field: string; message: string };

export interface SettingsStoreLogger {
  warn(message: string, details?: Record<string, unknown>): void;
  error(message: string, details?: Record<string, unknown>): void;
}

type StoreShape = {
  /** Settings saved from the panel. */
  settings?: unknown;
  /** Fingerprint of the host's config when `settings` was saved. */
  basedOn?: string;
  /** Relays paused by a `410 Gone` reply, kept apart so they never freeze the other settings. */
  pausedRelays?: string[];
};

/** File name of the settings file inside the plugin's data folder. */
export const SETTINGS_FILE_NAME = 'settings.json';

/**
 * The plugin's settings, kept with `electron-store` inside Electron and with `conf`, its base,
 * in plain Node. Settings saved from the panel take precedence over the `config` that Lime's
 * plugin centre passes at activation, until that config changes. Relays paused by `410 Gone`
 * are kept as a separate list laid over either. Every read and write goes through the zod
 * schema: invalid saved settings are set aside, and invalid fields of the host's config are
 * dropped one by one with an error naming each, never the whole config.
 */
export class SettingsStore {
  private readonly store: Conf<StoreShape>;
  private readonly logger: SettingsStoreLogger;
  private current: Settings;
  private readonly listeners = new Set<(settings: Settings) => void>();
  private readonly hostFingerprint: string;
  private pausedRelays: Set<string>;
  private warnedUnencrypted = false;
  /** Encrypts `secret` values on write and decrypts them on read, when the host offers it. */
  private secretCodec: SecretCodec | undefined;

  private constructor(
    store: Conf<StoreShape>,
    settings: Settings,
    logger: SettingsStoreLogger,
    hostFingerprint: string,
  ) {
    this.store = store;
    this.logger = logger;
    this.hostFingerprint = hostFingerprint;
    this.pausedRelays = new Set(readPausedRelays(store));
    this.unpaused = settings;
    this.current = withPausedRelays(settings, this.pausedRelays);
  }

  static async open(
    dataDir: string,
    hostConfig: unknown,
    logger: SettingsStoreLogger,
    options: { secretCodec?: SecretCodec } = {},
  ): Promise<SettingsStore> {
    const store = await openBackingStore(dataDir, logger);
    const fingerprint = fingerprintOf(hostConfig);
    const saved = readSaved(store, options.secretCodec, logger);
    const create = (settings: Settings): SettingsStore =>
      SettingsStore.create(store, settings, logger, fingerprint, options.secretCodec);

    if (saved !== undefined) {
      const basedOn = store.get('basedOn');
      const parsedSaved = SettingsSchema.safeParse(saved);

      if (basedOn !== undefined && basedOn !== fingerprint) {
        // The user changed the plugin's settings in Lime's plugin centre after saving in the
        // panel: the newer host config wins.
        store.delete('settings');
        store.delete('basedOn');
        logger.warn('the host config changed since settings were saved in the panel; using it');
      } else if (parsedSaved.success) {
        return create(parsedSaved.data);
      } else {
        // Falling back to the defaults would drop every callback URL and mark pending events
        // as skipped, so the host's config takes over and the saved file is kept aside.
        const issue = formatIssue(parsedSaved.error);
        const asidePath = `${store.path}.unreadable-${Date.now()}`;
        await fs.copyFile(store.path, asidePath);
        store.delete('settings');
        logger.warn('saved settings are invalid; moved them aside and using the host config', {
          field: issue.field,
          message: issue.message,
          movedTo: asidePath,
        });
      }
    }

    return create(parseLeniently(hostConfig ?? {}, logger));
  }

  private static create(
    store: Conf<StoreShape>,
    settings: Settings,
    logger: SettingsStoreLogger,
    hostFingerprint: string,
    secretCodec?: SecretCodec,
  ): SettingsStore {
    const settingsStore = new SettingsStore(store, settings, logger, hostFingerprint);

    if (settingsStore.pausedRelays.size > 0) {
      logger.warn('relays paused by 410 Gone stay paused until they are resumed in the panel', {
        relays: [...settingsStore.pausedRelays],
      });
    }

    settingsStore.secretCodec = secretCodec;
    settingsStore.warnIfSecretsUnencrypted(settings);
    return settingsStore;
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

    // A relay the user resumes in the form is no longer paused by an earlier 410.
    for (const relayId of this.pausedRelays) {
      if (parsed.data.relays[relayId]?.paused !== true) {
        this.pausedRelays.delete(relayId);
      }
    }

    this.store.set(
      'settings',
      this.secretCodec === undefined ? parsed.data : encodeSecrets(parsed.data, this.secretCodec),
    );
    this.store.set('basedOn', this.hostFingerprint);
    this.store.set('pausedRelays', [...this.pausedRelays]);
    this.warnIfSecretsUnencrypted(parsed.data);
    this.apply(parsed.data);
    return { ok: true, settings: this.current };
  }

  /**
   * Pauses or resumes one relay. A pause from a `410 Gone` reply is kept in its own list, so the
   * rest of the settings keep following the host's config; resuming also clears a pause saved
   * in the settings.
   */
  setRelayPaused(relayId: string, paused: boolean): SettingsUpdate {
    if (paused) {
      this.pausedRelays.add(relayId);
      this.store.set('pausedRelays', [...this.pausedRelays]);
      this.apply(this.base());
      return { ok: true, settings: this.current };
    }

    this.pausedRelays.delete(relayId);
    this.store.set('pausedRelays', [...this.pausedRelays]);
    const base = this.base();

    if (base.relays[relayId]?.paused === true) {
      const relay = { ...base.relays[relayId] };
      delete relay.paused;
      return this.update({ ...base, relays: { ...base.relays, [relayId]: relay } });
    }

    this.apply(base);
    return { ok: true, settings: this.current };
  }

  /** Returns whether a `410 Gone` reply paused `relayId`, rather than (or as well as) the settings. */
  pausedByGone(relayId: string): boolean {
    return this.pausedRelays.has(relayId);
  }

  /** Returns the settings without the pause list laid over them. */
  private base(): Settings {
    return this.unpaused;
  }

  private unpaused: Settings = SettingsSchema.parse({});

  private apply(settings: Settings): void {
    this.unpaused = settings;
    this.current = withPausedRelays(settings, this.pausedRelays);

    for (const listener of this.listeners) {
      listener(this.current);
    }
  }

  onChange(listener: (settings: Settings) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get filePath(): string {
    return this.store.path;
  }

  /**
   * Warns once per activation when signing secrets are in effect and no secret codec encrypts
   * them (plain Node, or Electron without safeStorage), so they are saved as plain text in an
   * owner-only (0600) file.
   */
  private warnIfSecretsUnencrypted(settings: Settings): void {
    if (this.warnedUnencrypted || this.secretCodec !== undefined) {
      return;
    }

    const relays = Object.keys(settings.relays).filter(
      (relayId) => settings.relays[relayId]?.secret !== undefined,
    );

    if (relays.length === 0) {
      return;
    }

    this.warnedUnencrypted = true;
    this.logger.warn(
      'signing secrets are stored unencrypted: this host offers no encryption, so once ' +
        'saved they are protected only by the owner-only permissions (0600) of the settings file',
      { file: this.store.path, relays },
    );
  }
}

/** Reads the saved settings, decrypting secrets; one that cannot be decrypted is dropped. */
function readSaved(
  store: Conf<StoreShape>,
  codec: SecretCodec | undefined,
  logger: SettingsStoreLogger,
): unknown {
  const saved = store.get('settings');

  if (saved === undefined || codec === undefined) {
    return saved;
  }

  const { settings, failed } = decodeSecrets(saved, codec);

  if (failed.length > 0) {
    logger.error('saved signing secrets could not be decrypted; enter them again in the panel', {
      relays: failed,
    });
  }

  return settings;
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

/**
 * Parses the host's config keeping every valid field: each invalid one is logged with its
 * name and removed, and parsing is repeated, so one bad value cannot switch a disabled plugin
 * back on or drop every secret.
 */
export function parseLeniently(input: unknown, logger: SettingsStoreLogger): Settings {
  let candidate: unknown;

  try {
    candidate = JSON.parse(JSON.stringify(input ?? {})) as unknown;
  } catch {
    logger.error('invalid host settings: not a JSON object; using the defaults');
    return SettingsSchema.parse({});
  }

  // One issue is removed per round, because removing an array item shifts the indices that
  // the other issues name.
  for (let round = 0; round < 200; round += 1) {
    const parsed = SettingsSchema.safeParse(candidate);

    if (parsed.success) {
      return parsed.data;
    }

    const issue = parsed.error.issues[0]!;
    const { field, message } = formatIssue(new z.ZodError([issue]));
    logger.error('invalid host setting ignored; the rest of the config is kept', {
      field,
      message,
    });
    const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]!] : issue.path;

    if (!removePath(candidate, path)) {
      break;
    }
  }

  logger.error('invalid host settings; using the defaults');
  return SettingsSchema.parse({});
}

/** Removes the value at `path`; returns false when the path is the whole object. */
function removePath(root: unknown, path: PropertyKey[]): boolean {
  if (path.length === 0) {
    return false;
  }

  let parent: unknown = root;

  for (const key of path.slice(0, -1)) {
    if (typeof parent !== 'object' || parent === null) {
      return true;
    }

    parent = (parent as Record<PropertyKey, unknown>)[key];
  }

  const last = path[path.length - 1]!;

  if (Array.isArray(parent) && typeof last === 'number') {
    parent.splice(last, 1);
  } else if (typeof parent === 'object' && parent !== null) {
    delete (parent as Record<PropertyKey, unknown>)[last];
  }

  return true;
}

function withPausedRelays(settings: Settings, paused: Set<string>): Settings {
  if (paused.size === 0) {
    return settings;
  }

  const relays = { ...settings.relays };

  for (const relayId of paused) {
    relays[relayId] = { ...relays[relayId], paused: true };
  }

  return { ...settings, relays };
}

function readPausedRelays(store: Conf<StoreShape>): string[] {
  const value: unknown = store.get('pausedRelays');
  return Array.isArray(value)
    ? value.filter(
        (item): item is string => typeof item === 'string' && RELAY_ID_PATTERN.test(item),
      )
    : [];
}

/** Identifies a host config by its JSON text; a config that cannot be serialised has none. */
function fingerprintOf(config: unknown): string {
  try {
    return createHash('sha256')
      .update(JSON.stringify(config ?? null) ?? 'null')
      .digest('hex');
  } catch {
    return 'unserialisable';
  }
}
