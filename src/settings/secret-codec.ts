/** Encryption of signing secrets at rest; Electron's safeStorage provides one inside Lime. */
export interface SecretCodec {
  encode(secret: string): string;
  /** Returns a stored value as plain text; a value that was never encoded comes back as is. */
  decode(stored: string): string;
}

type RelayEntries = Record<string, Record<string, unknown>>;

function mapSecrets(
  settings: unknown,
  map: (secret: string, relayId: string) => string | undefined,
): unknown {
  if (typeof settings !== 'object' || settings === null) {
    return settings;
  }

  const { relays } = settings as { relays?: unknown };

  if (typeof relays !== 'object' || relays === null) {
    return settings;
  }

  const mapped: RelayEntries = {};

  for (const [relayId, relay] of Object.entries(relays as RelayEntries)) {
    if (typeof relay?.secret !== 'string') {
      mapped[relayId] = relay;
      continue;
    }

    const { secret, ...rest } = relay;
    const value = map(secret, relayId);
    mapped[relayId] = value === undefined ? rest : { ...rest, secret: value };
  }

  return { ...(settings as object), relays: mapped };
}

/** Returns a copy of `settings` whose relay secrets are encoded for storage. */
export function encodeSecrets(settings: unknown, codec: SecretCodec): unknown {
  return mapSecrets(settings, (secret) => codec.encode(secret));
}

/**
 * Returns a copy of stored settings with plain relay secrets. A secret that cannot be decoded
 * (the OS key store changed or was reset) is left out and its relay id listed in `failed`.
 */
export function decodeSecrets(
  settings: unknown,
  codec: SecretCodec,
): { settings: unknown; failed: string[] } {
  const failed: string[] = [];
  const decoded = mapSecrets(settings, (stored, relayId) => {
    try {
      return codec.decode(stored);
    } catch {
      failed.push(relayId);
      return undefined;
    }
  });
  return { settings: decoded, failed };
}
