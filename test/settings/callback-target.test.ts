import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  registryFromDocument,
  resolveCallbackTarget,
  type CallbackTarget,
} from '../../src/settings/callback-target.js';
import { SettingsSchema, type SettingsInput } from '../../src/settings/settings-schema.js';

const exampleRegistry = registryFromDocument(
  JSON.parse(
    readFileSync(new URL('../../examples/registry.json', import.meta.url), 'utf8'),
  ) as unknown,
);

const SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;

function settings(input: SettingsInput = {}) {
  return SettingsSchema.parse(input);
}

function rejected(target: CallbackTarget) {
  if (target.ok) {
    throw new Error(`expected no target, received ${target.url}`);
  }

  return target;
}

function registryOf(entries: Record<string, unknown>) {
  return {
    get: (relayId: string) => (Object.hasOwn(entries, relayId) ? entries[relayId] : undefined),
  };
}

describe('resolveCallbackTarget', () => {
  it('uses the registry URL', () => {
    expect(resolveCallbackTarget('local-relay', settings(), exampleRegistry)).toStrictEqual({
      ok: true,
      url: 'https://127.0.0.1:8443/lime/callback',
      source: 'registry',
    });
  });

  it('prefers the settings URL over the registry', () => {
    const target = resolveCallbackTarget(
      'local-relay',
      settings({ relays: { 'local-relay': { callbackUrl: 'https://hooks.example.test/lime' } } }),
      exampleRegistry,
    );

    expect(target).toStrictEqual({
      ok: true,
      url: 'https://hooks.example.test/lime',
      source: 'settings',
    });
  });

  it('uses a settings URL for a relay missing from the registry', () => {
    const target = resolveCallbackTarget(
      'acme',
      settings({
        relays: { acme: { callbackUrl: 'https://hooks.example.test/acme', secret: SECRET } },
      }),
      exampleRegistry,
    );

    expect(target).toStrictEqual({
      ok: true,
      url: 'https://hooks.example.test/acme',
      secret: SECRET,
      source: 'settings',
    });
  });

  it('takes the secret from settings with a registry URL', () => {
    const target = resolveCallbackTarget(
      'local-relay',
      settings({ relays: { 'local-relay': { secret: SECRET } } }),
      exampleRegistry,
    );

    expect(target).toStrictEqual({
      ok: true,
      url: 'https://127.0.0.1:8443/lime/callback',
      secret: SECRET,
      source: 'registry',
    });
  });

  it('ignores a secret in the registry entry', () => {
    const registry = registryOf({
      acme: {
        id: 'acme',
        webhook: { callback_url: 'https://hooks.example.test/a', secret: SECRET },
      },
    });
    const target = resolveCallbackTarget('acme', settings(), registry);

    expect(target).toStrictEqual({
      ok: true,
      url: 'https://hooks.example.test/a',
      source: 'registry',
    });
  });

  it('reports a paused relay', () => {
    const target = resolveCallbackTarget(
      'local-relay',
      settings({
        relays: { 'local-relay': { paused: true, callbackUrl: 'https://hooks.example.test/x' } },
      }),
      exampleRegistry,
    );

    expect(target.ok).toBe(false);
    expect(rejected(target).reason).toBe('relay_paused');
    expect(rejected(target).message).toContain('"local-relay"');
  });

  it('reports a disabled plugin before anything else', () => {
    const target = resolveCallbackTarget(
      'local-relay',
      settings({ enabled: false, relays: { 'local-relay': { paused: true } } }),
      exampleRegistry,
    );

    expect(rejected(target).reason).toBe('disabled');
  });

  it('reports a relay with no URL anywhere', () => {
    const target = resolveCallbackTarget('acme', settings(), exampleRegistry);

    expect(rejected(target).reason).toBe('no_callback_url');
    expect(rejected(target).message).toBe('relay "acme" is not in the registry');
  });

  it('skips the registry when useRegistry is false', () => {
    const target = resolveCallbackTarget(
      'local-relay',
      settings({ useRegistry: false }),
      exampleRegistry,
    );

    expect(rejected(target).reason).toBe('no_callback_url');
    expect(rejected(target).message).toContain('useRegistry');
  });

  it('reports no URL without a registry', () => {
    const target = resolveCallbackTarget('local-relay', settings());

    expect(rejected(target).reason).toBe('no_callback_url');
  });

  it('reports an entry without webhook', () => {
    const target = resolveCallbackTarget(
      'acme',
      settings(),
      registryOf({ acme: { id: 'acme', name: 'Acme' } }),
    );

    expect(rejected(target).reason).toBe('no_callback_url');
    expect(rejected(target).message).toContain('webhook.callback_url');
  });

  it('reports an empty callback_url as missing', () => {
    const target = resolveCallbackTarget(
      'acme',
      settings(),
      registryOf({ acme: { webhook: { callback_url: '' } } }),
    );

    expect(rejected(target).reason).toBe('no_callback_url');
  });

  it('rejects an http:// registry URL', () => {
    const registry = registryOf({
      acme: { id: 'acme', webhook: { callback_url: 'http://hooks.example.test/a' } },
    });
    const target = resolveCallbackTarget('acme', settings(), registry);

    expect(rejected(target).reason).toBe('invalid_callback_url');
    expect(rejected(target).message).toContain('expected an https:// URL, received http://');
  });

  it('rejects a registry URL with a password without showing it', () => {
    const registry = registryOf({
      acme: { webhook: { callback_url: 'https://user:hunter22@hooks.example.test/' } },
    });
    const target = resolveCallbackTarget('acme', settings(), registry);

    expect(rejected(target).reason).toBe('invalid_callback_url');
    expect(rejected(target).message).not.toContain('hunter22');
  });

  it('rejects a registry URL that is not a string', () => {
    const target = resolveCallbackTarget(
      'acme',
      settings(),
      registryOf({ acme: { webhook: { callback_url: 443 } } }),
    );

    expect(rejected(target).reason).toBe('invalid_callback_url');
    expect(rejected(target).message).toContain('expected a string, received number');
  });

  it('reports a registry lookup that throws', () => {
    const registry = {
      get(): unknown {
        throw new TypeError('registry not loaded');
      },
    };
    const target = resolveCallbackTarget('acme', settings(), registry);

    expect(rejected(target).reason).toBe('no_callback_url');
    expect(rejected(target).message).toContain('TypeError: registry not loaded');
  });

  it('reports a registry entry for another relay', () => {
    const registry = registryOf({
      acme: { id: 'other', webhook: { callback_url: 'https://hooks.example.test/o' } },
    });
    const target = resolveCallbackTarget('acme', settings(), registry);

    expect(rejected(target).reason).toBe('no_callback_url');
    expect(rejected(target).message).toContain('"other"');
  });

  it.each([
    ['a string', 'https://hooks.example.test/a'],
    ['an array', [{ webhook: { callback_url: 'https://hooks.example.test/a' } }]],
    ['a number', 7],
    ['a webhook string', { webhook: 'https://hooks.example.test/a' }],
    ['a numeric id', { id: 7, webhook: { callback_url: 'https://hooks.example.test/a' } }],
  ])('reports an entry that is %s', (_label, entry) => {
    const target = resolveCallbackTarget('acme', settings(), { get: () => entry });

    expect(rejected(target).reason).toBe('no_callback_url');
  });

  it('does not read inherited relay settings', () => {
    const resolved = settings({
      relays: { acme: { callbackUrl: 'https://hooks.example.test/a' } },
    });

    for (const relayId of ['__proto__', 'constructor', 'toString']) {
      const target = resolveCallbackTarget(relayId, resolved, exampleRegistry);

      expect(rejected(target).reason).toBe('no_callback_url');
    }
  });

  it('never throws whatever the registry returns', () => {
    fc.assert(
      fc.property(fc.string(), fc.anything({ withNullPrototype: true }), (relayId, entry) => {
        const target = resolveCallbackTarget(relayId, settings(), { get: () => entry });

        expect(typeof target.ok).toBe('boolean');
      }),
      { numRuns: 500 },
    );
  });
});
