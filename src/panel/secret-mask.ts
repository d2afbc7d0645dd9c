import type { Settings } from '../settings/settings-schema.js';

/** Characters of a signing secret that the panel shows, from its end. */
const SHOWN_CHARACTERS = 4;

/**
 * Masks a signing secret for the panel: `whsec_…` and its last 4 characters. A secret of 12
 * characters or fewer shows none of them.
 */
export function maskSecret(secret: string): string {
  const tail = secret.length > 12 ? secret.slice(-SHOWN_CHARACTERS) : '';
  return `whsec_…${tail}`;
}

/** Returns a copy of `settings` with every relay's signing secret masked. */
export function maskSecrets(settings: Settings): Settings {
  const relays = Object.entries(settings.relays).map(([id, relay]) => [
    id,
    relay.secret === undefined ? relay : { ...relay, secret: maskSecret(relay.secret) },
  ]);
  return { ...settings, relays: Object.fromEntries(relays) as Settings['relays'] };
}

/**
 * Puts the stored secrets back into settings sent by the panel: a relay whose secret is the mask
 * of the stored secret of the same relay id keeps the stored secret. Any other value, including
 * a new secret, passes unchanged to validation.
 */
export function restoreSecrets(input: unknown, stored: Settings): unknown {
  if (typeof input !== 'object' || input === null) {
    return input;
  }

  const relays = (input as { relays?: unknown }).relays;

  if (typeof relays !== 'object' || relays === null || Array.isArray(relays)) {
    return input;
  }

  // Object.fromEntries defines own properties, so an id such as `__proto__` stays a plain key.
  const restored = Object.entries(relays).map(([id, relay]) => {
    const secret = (relay as { secret?: unknown } | null)?.secret;
    const storedSecret = Object.hasOwn(stored.relays, id) ? stored.relays[id]?.secret : undefined;
    const unchanged =
      typeof secret === 'string' &&
      storedSecret !== undefined &&
      secret === maskSecret(storedSecret);
    return [id, unchanged ? { ...(relay as object), secret: storedSecret } : relay];
  });

  return { ...input, relays: Object.fromEntries(restored) };
}
