import { fileURLToPath } from 'node:url';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { registryFromDocument, resolveCallbackTarget } from '../../src/settings/callback-target.js';
import { SettingsSchema } from '../../src/settings/settings-schema.js';

function readJson(path: string | URL): unknown {
  return JSON.parse(readFileSync(path, 'utf8')) as unknown;
}

function validationError(document: unknown): ValidationError {
  try {
    registryFromDocument(document);
  } catch (error) {
    if (error instanceof ValidationError) {
      return error;
    }

    throw error;
  }

  throw new Error('expected a ValidationError, received a registry');
}

/** A provider in the full registry.json format, with the fields this plugin does not read. */
const fullProvider = {
  $schema: '../schema/provider.schema.json',
  id: 'acme',
  name: 'Acme Relay',
  description: 'Example relay',
  branding: { logo: 'https://relay.example.test/logo.png', color: '#10B981' },
  links: { homepage: 'https://relay.example.test/', docs: 'https://relay.example.test/docs' },
  api: {
    base_url: 'https://relay.example.test/v1',
    protocol: 'openai',
    auth_header: 'Authorization',
    auth_prefix: 'Bearer ',
  },
  contact: { email: 'ops@relay.example.test' },
  features: { streaming: true, models_endpoint: true },
  webhook: { callback_url: 'https://relay.example.test/lime/callback' },
};

describe('registryFromDocument', () => {
  it('loads the example registry', () => {
    const registry = registryFromDocument(
      readJson(new URL('../../examples/registry.json', import.meta.url)),
    );
    const entry = registry.get('local-relay') as { webhook: { callback_url: string } };

    expect(entry.webhook.callback_url).toBe('https://127.0.0.1:8443/lime/callback');
  });

  it('returns each entry as given', () => {
    const document = { version: '2026-01-05', providers: [fullProvider, { id: 'bare' }] };
    const registry = registryFromDocument(document);

    expect(registry.get('acme')).toBe(fullProvider);
    expect(registry.get('bare')).toStrictEqual({ id: 'bare' });
  });

  it('returns undefined for unknown and prototype ids', () => {
    const registry = registryFromDocument({ providers: [fullProvider] });

    for (const relayId of ['missing', '__proto__', 'constructor', 'hasOwnProperty']) {
      expect(registry.get(relayId)).toBeUndefined();
    }
  });

  it('loads an empty providers array', () => {
    expect(registryFromDocument({ providers: [] }).get('acme')).toBeUndefined();
  });

  it.each([
    ['null', null, '(root)'],
    ['an array', [fullProvider], '(root)'],
    ['a document without providers', { version: '1' }, 'providers'],
    ['providers that are not an array', { providers: { acme: fullProvider } }, 'providers'],
    ['a provider that is a string', { providers: ['acme'] }, 'providers.0'],
    ['a provider without id', { providers: [fullProvider, { name: 'x' }] }, 'providers.1.id'],
    ['a provider with an empty id', { providers: [{ id: '' }] }, 'providers.0.id'],
    ['a provider with a numeric id', { providers: [{ id: 7 }] }, 'providers.0.id'],
    ['a repeated id', { providers: [fullProvider, { id: 'acme' }] }, 'providers.1.id'],
  ])('rejects %s naming the field', (_label, document, field) => {
    const error = validationError(document);

    expect(error.code).toBe('INVALID_REGISTRY');
    expect(error.field).toBe(field);
    expect(error.message).toContain(field);
  });

  // A copy of a registry.json that Lime's relay registry published: real input, only read.
  // Its URLs point at public hosts, so nothing here sends to them.
  const publishedRegistry = fileURLToPath(
    new URL('../fixtures/published-registry.json', import.meta.url),
  );

  it('loads a published registry', () => {
    const document = readJson(publishedRegistry) as { providers: { id: string }[] };
    const registry = registryFromDocument(document);

    expect(document.providers.length).toBeGreaterThan(0);

    for (const provider of document.providers) {
      expect(registry.get(provider.id)).toBe(provider);
    }
  });

  it('resolves the callback URLs of a published registry', () => {
    const document = readJson(publishedRegistry) as {
      providers: { id: string; webhook?: { callback_url?: string } }[];
    };
    const registry = registryFromDocument(document);

    // Only resolves the URL text; nothing is sent to these public hosts.
    for (const provider of document.providers) {
      const target = resolveCallbackTarget(provider.id, SettingsSchema.parse({}), registry);
      const url = provider.webhook?.callback_url;

      expect(target).toStrictEqual(
        url === undefined
          ? expect.objectContaining({ ok: false })
          : { ok: true, url: new URL(url).href, source: 'registry' },
      );
    }
  });
});
