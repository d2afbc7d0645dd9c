import * as z from 'zod';
import { checkCallbackUrl, describeType } from '../delivery/callback-url.js';
import { ValidationError } from '../errors.js';
import { formatIssue, type Settings } from './settings-schema.js';

export type CallbackTarget =
  | { ok: true; url: string; secret?: string; source: 'settings' | 'registry' }
  | {
      ok: false;
      reason: 'no_callback_url' | 'relay_paused' | 'invalid_callback_url' | 'disabled';
      message: string;
    };

/** A relay registry lookup whose entries use the `providers[]` format of Lime's registry.json. */
export interface RelayRegistry {
  get(relayId: string): unknown;
}

/**
 * The parts of a registry.json provider entry read here. Loose, because entries also carry
 * branding, links, api, contact and features that this plugin does not use.
 */
const ProviderEntrySchema = z.looseObject({
  id: z.string().optional(),
  name: z.string().optional(),
  // Checked by checkCallbackUrl, whose messages are more specific than a zod type error.
  webhook: z.looseObject({ callback_url: z.unknown() }).nullish(),
});

const RegistryDocumentSchema = z.looseObject({
  providers: z.array(z.looseObject({ id: z.string().min(1, 'expected a non-empty relay id') })),
});

/** Maximum length of an untrusted value quoted in a message, in UTF-16 code units. */
const MAX_QUOTED_LENGTH = 80;

/**
 * Chooses where the callback of `relayId` goes. In order:
 * 1. `settings.enabled` false gives `disabled`, then `relays[id].paused` gives `relay_paused`.
 * 2. `relays[id].callbackUrl` from the settings, when set.
 * 3. The registry entry's `webhook.callback_url`, read only when `settings.useRegistry` is true
 *    and a registry is given. A URL that fails checkCallbackUrl gives `invalid_callback_url`.
 * 4. Otherwise `no_callback_url`, also when the lookup throws or returns an unusable entry.
 *
 * The signing secret comes only from the settings, whichever source gave the URL. Never throws.
 * Messages never quote a callback URL, so credentials in one stay out of logs.
 */
export function resolveCallbackTarget(
  relayId: string,
  settings: Settings,
  registry?: RelayRegistry,
): CallbackTarget {
  const relay = quote(relayId);

  if (!settings.enabled) {
    return { ok: false, reason: 'disabled', message: 'the plugin is disabled in its settings' };
  }

  const relaySettings =
    typeof relayId === 'string' && Object.hasOwn(settings.relays, relayId)
      ? settings.relays[relayId]
      : undefined;
  const secret = relaySettings?.secret;

  if (relaySettings?.paused === true) {
    return {
      ok: false,
      reason: 'relay_paused',
      message: `relay ${relay} is paused in the settings. Resume it to send its callbacks`,
    };
  }

  if (relaySettings?.callbackUrl !== undefined) {
    return checkedTarget(
      relaySettings.callbackUrl,
      'settings',
      secret,
      `relays.${relayId}.callbackUrl`,
    );
  }

  if (!settings.useRegistry || registry === undefined) {
    return {
      ok: false,
      reason: 'no_callback_url',
      message: `relay ${relay} has no callbackUrl in the settings, and the registry is ${
        settings.useRegistry ? 'not available' : 'turned off by useRegistry'
      }`,
    };
  }

  return registryTarget(relayId, registry, secret);
}

function registryTarget(
  relayId: string,
  registry: RelayRegistry,
  secret: string | undefined,
): CallbackTarget {
  const relay = quote(relayId);
  let entry: unknown;

  try {
    entry = registry.get(relayId);
  } catch (error) {
    return {
      ok: false,
      reason: 'no_callback_url',
      message: `registry lookup of relay ${relay} failed: ${describeError(error)}`,
    };
  }

  if (entry === undefined || entry === null) {
    return {
      ok: false,
      reason: 'no_callback_url',
      message: `relay ${relay} is not in the registry`,
    };
  }

  const parsed = ProviderEntrySchema.safeParse(entry);

  if (!parsed.success) {
    const issue = formatIssue(parsed.error);
    return {
      ok: false,
      reason: 'no_callback_url',
      message: `the registry entry of relay ${relay} is invalid: ${issue.message}`,
    };
  }

  if (parsed.data.id !== undefined && parsed.data.id !== relayId) {
    return {
      ok: false,
      reason: 'no_callback_url',
      message: `the registry returned the entry of relay ${quote(parsed.data.id)} for ${relay}`,
    };
  }

  const url = parsed.data.webhook?.callback_url;

  if (url === undefined || url === null || url === '') {
    return {
      ok: false,
      reason: 'no_callback_url',
      message:
        `the registry entry of relay ${relay} has no webhook.callback_url. ` +
        `Set relays.${relayId}.callbackUrl in the settings to send its callbacks`,
    };
  }

  return checkedTarget(url, 'registry', secret, 'webhook.callback_url');
}

function checkedTarget(
  url: unknown,
  source: 'settings' | 'registry',
  secret: string | undefined,
  field: string,
): CallbackTarget {
  const check = checkCallbackUrl(url);

  if (!check.ok) {
    return {
      ok: false,
      reason: 'invalid_callback_url',
      message: `${source} ${field} is invalid: ${check.message}`,
    };
  }

  // The WHATWG serialisation, so the URL stored and sent is the one that was checked.
  const target: CallbackTarget = { ok: true, url: check.url.href, source };

  if (secret !== undefined) {
    target.secret = secret;
  }

  return target;
}

/**
 * Loads a registry.json document into a lookup by relay id. The document must have a
 * `providers` array whose entries are objects with a non-empty string `id`. Other fields are
 * checked when an entry is used. `get` returns the entry as given, or undefined.
 *
 * @throws ValidationError with code INVALID_REGISTRY and the dotted field, such as
 *   `providers.1.id`, when the document has another shape or repeats a relay id.
 */
export function registryFromDocument(document: unknown): RelayRegistry {
  const parsed = RegistryDocumentSchema.safeParse(document);

  if (!parsed.success) {
    const issue = formatIssue(parsed.error);
    throw new ValidationError(
      'INVALID_REGISTRY',
      issue.field,
      `invalid registry document: ${issue.message}`,
      { cause: parsed.error },
    );
  }

  // `get` returns the original entries, not zod's copies, so callers see every field as given.
  const providers = (document as { providers: unknown[] }).providers;
  const entries = new Map<string, unknown>();

  parsed.data.providers.forEach((provider, index) => {
    if (entries.has(provider.id)) {
      throw new ValidationError(
        'INVALID_REGISTRY',
        `providers.${index}.id`,
        `invalid registry document: providers.${index}.id: ` +
          `relay id ${quote(provider.id)} appears more than once`,
      );
    }

    entries.set(provider.id, providers[index]);
  });

  // A Map, unlike a plain object, returns nothing for ids such as "__proto__" or "constructor".
  return {
    get: (relayId: string) => (typeof relayId === 'string' ? entries.get(relayId) : undefined),
  };
}

function quote(value: unknown): string {
  if (typeof value !== 'string') {
    return `(${describeType(value)})`;
  }

  return JSON.stringify(truncate(value, MAX_QUOTED_LENGTH));
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) {
    return `threw ${describeType(error)}`;
  }

  return `${error.name}: ${truncate(error.message, MAX_QUOTED_LENGTH * 2)}`;
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
