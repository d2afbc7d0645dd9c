import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SettingsStore } from '../../src/settings/settings-store.js';

let dataDir: string;
let errors: string[];
let warnings: string[];

const logger = {
  warn: (message: string, details?: Record<string, unknown>) =>
    warnings.push(`${message} ${JSON.stringify(details ?? {})}`),
  error: (message: string, details?: Record<string, unknown>) =>
    errors.push(`${message} ${JSON.stringify(details ?? {})}`),
};

beforeEach(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'settings-store-'));
  errors = [];
  warnings = [];
});

afterEach(async () => {
  await fs.rm(dataDir, { recursive: true, force: true });
});

const hostConfig = {
  enabled: false,
  relays: { acme: { callbackUrl: 'https://relay.example/hook' } },
  retry: { initialDelayMs: 50 },
};

describe('SettingsStore', () => {
  it('keeps the valid fields of an invalid host config', async () => {
    const store = await SettingsStore.open(dataDir, hostConfig, logger);

    expect(store.get().enabled).toBe(false);
    expect(store.get().relays.acme?.callbackUrl).toBe('https://relay.example/hook');
    expect(store.get().retry.initialDelayMs).toBe(1000);
    expect(errors.join('\n')).toContain('retry.initialDelayMs');
  });

  it('drops an invalid relay field and keeps the relay', async () => {
    const config = { relays: { acme: { callbackUrl: 'http://relay.example/', paused: true } } };
    const store = await SettingsStore.open(dataDir, config, logger);

    expect(store.get().relays.acme).toEqual({ paused: true });
    expect(errors.join('\n')).toContain('relays.acme.callbackUrl');
  });

  it('drops an invalid certificate and keeps the rest', async () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';
    const config = {
      relays: { acme: { callbackUrl: 'https://relay.example/hook' } },
      network: { allowPrivateAddresses: true, extraCaCertificates: ['garbage', pem, 'junk'] },
    };
    const store = await SettingsStore.open(dataDir, config, logger);

    expect(store.get().network.extraCaCertificates).toEqual([pem]);
    expect(store.get().network.allowPrivateAddresses).toBe(true);
    expect(store.get().relays.acme?.callbackUrl).toBe('https://relay.example/hook');
    expect(errors).toHaveLength(2);
  });

  it('drops unknown keys naming them', async () => {
    const store = await SettingsStore.open(dataDir, { enabled: false, colour: 'red' }, logger);

    expect(store.get().enabled).toBe(false);
    expect(errors.join('\n')).toContain('colour');
  });

  it('keeps a 410 pause apart from the host config', async () => {
    const first = await SettingsStore.open(dataDir, { relays: { acme: {} } }, logger);
    first.setRelayPaused('acme', true);

    const changed = { enabled: false, relays: { acme: { callbackUrl: 'https://new.example/' } } };
    const second = await SettingsStore.open(dataDir, changed, logger);

    expect(second.get().enabled).toBe(false);
    expect(second.get().relays.acme).toEqual({ callbackUrl: 'https://new.example/', paused: true });
  });

  it('resumes a relay paused by 410', async () => {
    const store = await SettingsStore.open(dataDir, { relays: { acme: {} } }, logger);
    store.setRelayPaused('acme', true);
    store.setRelayPaused('acme', false);
    const reopened = await SettingsStore.open(dataDir, { relays: { acme: {} } }, logger);

    expect(store.get().relays.acme?.paused).toBeUndefined();
    expect(reopened.get().relays.acme?.paused).toBeUndefined();
  });

  it('prefers panel settings until the host config changes', async () => {
    const first = await SettingsStore.open(dataDir, { useRegistry: true }, logger);
    expect(first.update({ useRegistry: false }).ok).toBe(true);

    const same = await SettingsStore.open(dataDir, { useRegistry: true }, logger);
    expect(same.get().useRegistry).toBe(false);

    const changed = await SettingsStore.open(dataDir, { useRegistry: true, enabled: true }, logger);
    expect(changed.get().useRegistry).toBe(true);
  });

  it('rejects an update naming the field and keeps the old settings', async () => {
    const store = await SettingsStore.open(dataDir, hostConfig, logger);
    const before = store.get();
    const result = store.update({ relays: { acme: { callbackUrl: 'http://relay.example/' } } });

    expect(result).toMatchObject({ ok: false, field: 'relays.acme.callbackUrl' });
    expect(store.get()).toBe(before);
  });
});
